#!/usr/bin/env node
// `npm test`: everything CI checks, in order, on a fresh machine.
//   1. build the engine (tsc) and the Electron shell (electron-vite), type-check both sides
//   2. make sure a Chromium is there for the browser tests (Debian's package, installed when missing and we are root)
//   3. run every Vitest project (engine, renderer components, reliability, e2e in Chromium)
//   4. print one closing line: `N passed, N failed, N skipped`
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const npmCmd = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const only = process.argv.slice(2)

function step(title, cmd, args, opts = {}) {
  const t0 = Date.now()
  console.log(`\n== ${title}: ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts })
  const secs = ((Date.now() - t0) / 1000).toFixed(1)
  if (r.status !== 0) {
    console.log(`== ${title} failed (exit ${r.status ?? r.signal}) after ${secs}s`)
    return false
  }
  console.log(`== ${title} ok in ${secs}s`)
  return true
}

function hasRendererSources() {
  const dir = join(root, 'src/renderer/src')
  return existsSync(dir) && readdirSync(dir, { recursive: true }).some((f) => /\.(ts|vue)$/.test(String(f)))
}

function ensureChromium() {
  if (process.env.PADDOCK_CHROMIUM && existsSync(process.env.PADDOCK_CHROMIUM)) return
  if (existsSync('/usr/bin/chromium')) return
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    console.log('== chromium not found and cannot install it here: browser tests will be skipped')
    return
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  step('apt-get update', 'apt-get', ['update', '-qq'], { env })
  step('install chromium', 'apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { env })
}

let ok = true
if (only.length === 0) {
  ok = step('build engine', npmCmd, ['run', '-s', 'build:server']) && ok
  if (existsSync(join(root, 'electron.vite.config.ts'))) ok = step('build electron shell', npmCmd, ['run', '-s', 'build:app']) && ok
  ok = step('typecheck engine and shell', npmCmd, ['run', '-s', 'typecheck:node']) && ok
  if (hasRendererSources()) ok = step('typecheck renderer', npmCmd, ['run', '-s', 'typecheck:web']) && ok
  if (existsSync(join(root, 'scripts/electronegativity.mjs'))) ok = step('electronegativity', 'node', ['scripts/electronegativity.mjs']) && ok
} else {
  ok = step('build engine', npmCmd, ['run', '-s', 'build:server']) && ok
}
ensureChromium()

const reportDir = join(root, 'artifacts')
mkdirSync(reportDir, { recursive: true })
const report = join(reportDir, 'vitest-report.json')
rmSync(report, { force: true })
step('vitest', join(root, 'node_modules/.bin/vitest'), ['run', '--passWithNoTests', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...only])

let passed = 0
let failed = 0
let skipped = 0
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'))
  passed = r.numPassedTests ?? 0
  failed = (r.numFailedTests ?? 0) + filesThatFailedToRun(r)
  skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0)
} else {
  failed = 1
  console.log('== vitest wrote no report')
}
if (!ok) failed += 1
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed > 0 ? 1 : 0)

// A test file that failed to load (or whose hooks failed) counts once; a file whose tests
// failed is counted by its tests. (numFailedTestSuites counts describe blocks too.)
function filesThatFailedToRun(r) {
  return (r.testResults ?? []).filter((s) => s.status === 'failed' && !(s.assertionResults ?? []).some((a) => a.status === 'failed')).length
}
