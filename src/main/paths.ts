/**
 * Where the desktop app finds what it runs, packaged or not. No Electron here: the builder
 * configuration test (test/package/builder.test.ts) uses the same paths.
 *
 * The engine forks its workers and binder from files and starts worker_threads from files,
 * and Electron's Node cannot fork a script inside an asar archive: so the engine, the demo
 * app and the engine's dependencies are unpacked beside it (electron-builder's asarUnpack),
 * and main loads them from `app.asar.unpacked`.
 */
import path from 'node:path'

/** The app.asar.unpacked twin of a path inside app.asar (unchanged outside an archive). */
export function unpacked(p: string): string {
  return p.replace(/([\\/])app\.asar(?=$|[\\/])/, '$1app.asar.unpacked')
}

/** The engine's files, relative to the package root, that main and its hosted engine start from. */
export const ENGINE_DIR = 'dist/server'
export const DEMO_APP = 'resources/demo/app.mjs'
export interface AppPaths {
  /** the package root: app.asar when packaged (out/, package.json) */
  root: string
  /** the engine, outside the archive */
  engine: string
  demo: string
}

/** mainDir: the directory of the built main (out/main). */
export function appPaths(mainDir: string): AppPaths {
  const root = path.resolve(mainDir, '../..')
  return { root, engine: path.join(unpacked(root), ENGINE_DIR), demo: path.join(unpacked(root), DEMO_APP) }
}

/**
 * The paddock arguments of a launch: what follows `--` (`npm start -- app.mjs -w 4`), else
 * what follows the executable (a packaged app: `paddock-desktop app.mjs`) or, unpackaged,
 * the executable and the app path. Chromium switches Electron adds are dropped.
 */
export function launchArgs(argv: readonly string[], packaged: boolean): string[] {
  const i = argv.indexOf('--')
  const rest = i >= 0 ? argv.slice(i + 1) : argv.slice(packaged ? 1 : 2)
  return i >= 0 ? rest : rest.filter((a) => !/^--(?:allow-file-access-from-files|original-process-start-time|enable-features|disable-features|no-sandbox|inspect(?:-brk)?)(?:=|$)/.test(a))
}
