#!/usr/bin/env node
// `npm start [-- paddock options and app]`: build, then open the desktop dashboard hosting the
// demo app (or the app given). Where Electron's binary is not installed (CI machines, installs
// with ELECTRON_SKIP_BINARY_DOWNLOAD=1), the same dashboard is served to a browser instead.
// Ctrl-C stops what this started, by pid.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
const npx = join(root, 'node_modules/.bin')

for (const [what, cmd, cmdArgs] of [
  ['engine', join(npx, 'tsc'), ['-p', 'tsconfig.server.json']],
  ['dashboard', join(npx, 'electron-vite'), ['build', '--logLevel', 'warn']],
]) {
  process.stdout.write(`paddock: building the ${what}…\n`)
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) {
    process.stderr.write(`paddock: building the ${what} failed (exit ${r.status ?? r.signal})\n`)
    process.exit(1)
  }
}

function electronBinary() {
  const dir = join(root, 'node_modules/electron')
  const installed = () => {
    try {
      const p = join(dir, 'dist', readFileSync(join(dir, 'path.txt'), 'utf8').trim())
      return existsSync(p) ? p : null
    } catch {
      return null
    }
  }
  const found = installed()
  if (found || process.env.ELECTRON_SKIP_BINARY_DOWNLOAD || !existsSync(join(dir, 'install.js'))) return found
  // Electron 42+ fetches its binary on first use rather than at install time
  process.stdout.write("paddock: downloading Electron's binary (first run only)…\n")
  const r = spawnSync(process.execPath, [join(dir, 'install.js')], { cwd: dir, encoding: 'utf8' })
  const again = installed()
  if (!again) {
    const why = `${r.stderr ?? ''}`.split('\n').find((l) => /error/i.test(l)) ?? `exit ${r.status}`
    process.stdout.write(`paddock: could not download it (${why.trim()})\n`)
  }
  return again
}

const electron = electronBinary()
// the main process by its file: package.json's "main" is the library (import ... from 'paddock')
const child = electron
  ? spawn(electron, [join(root, 'out/main/index.js'), '--', ...args], { cwd: root, stdio: 'inherit' })
  : (process.stdout.write("paddock: Electron's binary is not installed here; serving the same dashboard to your browser instead\n"),
    spawn(process.execPath, [join(root, 'bin/paddock.mjs'), 'dashboard', ...args], { cwd: root, stdio: 'inherit' }))

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (child.exitCode === null) child.kill(sig)
  })
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
