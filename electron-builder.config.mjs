// electron-builder: `npm run dist` builds the desktop app for the machine it runs on
// (AppImage and deb on Linux, dmg on macOS, an NSIS installer on Windows); see docs/desktop.md.
// test/package/builder.test.ts checks this file against what the main process loads.

/** @type {import('electron-builder').Configuration} */
export default {
  appId: 'dev.paddock.desktop',
  productName: 'paddock',
  executableName: 'paddock-desktop',
  copyright: 'Copyright © 2026 the paddock contributors',
  directories: { output: 'release', buildResources: 'resources/icons' },
  // package.json's "main" is the library for npm users; the app starts from the built main
  extraMetadata: { main: 'out/main/index.js' },
  files: ['package.json', 'out/**', 'dist/server/**', 'dist/shared/**', 'resources/demo/**', '!**/*.map', '!**/*.d.ts'],
  // Electron's Node cannot fork a script from inside an asar archive: the engine (workers,
  // binder, gthread threads, load runner), the demo app the workers import, and the
  // dependencies the engine imports from there are unpacked (main loads them from
  // app.asar.unpacked, src/main/paths.ts). Only out/ (main, preload, renderer) stays packed.
  asarUnpack: ['dist/**', 'resources/demo/**', 'node_modules/**'],
  electronFuses: {
    // workers are child_process.fork'ed, which runs them as ELECTRON_RUN_AS_NODE
    runAsNode: true,
    enableCookieEncryption: true,
    onlyLoadAppFromAsar: true,
  },
  icon: 'resources/icons/icon.png',
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Development',
    icon: 'resources/icons',
    synopsis: 'A prefork HTTP server for Node.js with a live dashboard',
  },
  mac: {
    target: ['dmg'],
    category: 'public.app-category.developer-tools',
    icon: 'resources/icons/1024x1024.png',
  },
  win: {
    target: ['nsis'],
    icon: 'resources/icons/256x256.png',
  },
  nsis: { oneClick: false, allowToChangeInstallationDirectory: true },
}
