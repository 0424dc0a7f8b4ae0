#!/usr/bin/env node
// The --reload watcher on a project with its dependencies installed: inotify watches, how
// long starting it blocks the event loop, how long until every watch is in place, and
// from a save to the change being reported. The old way (one recursive fs.watch on the
// app's directory, node_modules included) beside the reloader (arbiter/reloader.ts, only
// directories that are not ignored). The project is a copy of this checkout's directory
// tree (directories only, node_modules' too) in a temporary directory. Linux only.
//   node bench/reload-watch.mjs        results in bench/results/reload-watch.{md,json}
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { watch } from 'node:fs'
import os from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const { startReloader } = await import(join(root, 'dist/server/arbiter/reloader.js'))

function inotifyWatches() {
  let n = 0
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) !== 'anon_inode:inotify') continue
      n += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify wd:')).length
    } catch {}
  }
  return n
}

/** every directory below `dir` (following the node_modules symlink of a worktree once) */
function dirsBelow(dir, base = dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === '.git' || e.name === 'dist' || e.name === 'out') continue
    const p = join(dir, e.name)
    if (e.isDirectory()) {
      out.push(relative(base, p))
      dirsBelow(p, base, out)
    }
  }
  return out
}

const project = mkdtempSync(join(os.tmpdir(), 'paddock-watch-'))
const own = dirsBelow(root).filter((d) => !d.startsWith('node_modules'))
const deps = dirsBelow(realpathSync(join(root, 'node_modules'))).map((d) => join('node_modules', d))
for (const d of [...own, ...deps]) mkdirSync(join(project, d), { recursive: true })
writeFileSync(join(project, 'app.mjs'), 'export default () => {}\n')
const dirs = own.length + deps.length + 1
console.log(`project: ${dirs} directories (${deps.length} under node_modules)`)

/** how long the loop is blocked from the call on: the largest gap a 1 ms timer sees in 3 s */
async function measure(start) {
  const before = inotifyWatches()
  let worst = 0
  let last = performance.now()
  const probe = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last - 1)
    last = now
  }, 1)
  const t0 = performance.now()
  const handle = start()
  const callMs = performance.now() - t0
  await handle.ready
  const readyMs = performance.now() - t0
  await new Promise((r) => setTimeout(r, 500))
  clearInterval(probe)
  return { handle, watches: inotifyWatches() - before, callMs, readyMs, blockedMs: Math.max(worst, callMs) }
}

const results = {}
{
  let error = null
  const m = await measure(() => {
    try {
      const w = watch(project, { recursive: true, persistent: false }, () => {})
      w.on('error', (e) => (error = e))
      return { ready: Promise.resolve(), close: () => w.close() }
    } catch (e) {
      error = e
      return { ready: Promise.resolve(), close: () => {} }
    }
  })
  m.handle.close()
  results.recursive = { watches: m.watches, blockedMs: m.blockedMs, readyMs: m.readyMs, error: error && String(error) }
}
{
  let changedAt = 0
  const m = await measure(() => startReloader({ root: project, onChange: () => (changedAt = performance.now()) }))
  const savedAt = performance.now()
  writeFileSync(join(project, 'app.mjs'), 'export default () => 1\n')
  while (!changedAt && performance.now() - savedAt < 5000) await new Promise((r) => setTimeout(r, 5))
  m.handle.close()
  results.reloader = { watches: m.watches, blockedMs: m.blockedMs, readyMs: m.readyMs, saveToChangeMs: changedAt ? changedAt - savedAt : null }
}
rmSync(project, { recursive: true, force: true })

const f = (x) => (x == null ? '-' : x.toFixed(0))
const cpu = os.cpus()
const lines = [
  '# --reload watcher',
  '',
  `${new Date().toISOString().slice(0, 10)} · ${cpu.length} vCPU ${cpu[0]?.model ?? ''}, Node ${process.version} · \`node bench/reload-watch.mjs\` · a project of ${dirs} directories, ${deps.length} of them under node_modules (this checkout's tree and its installed dependencies)`,
  '',
  '| watcher | inotify watches | event loop blocked (ms) | all watches in place after (ms) | save to change reported (ms, 250 ms debounce) |',
  '|---|---:|---:|---:|---:|',
  `| one recursive fs.watch (before) | ${results.recursive.watches} | ${f(results.recursive.blockedMs)} | ${f(results.recursive.readyMs)} | - |`,
  `| reloader: directories not ignored | ${results.reloader.watches} | ${f(results.reloader.blockedMs)} | ${f(results.reloader.readyMs)} | ${f(results.reloader.saveToChangeMs)} |`,
  '',
]
if (results.recursive.error) lines.push(`The recursive watch failed: ${results.recursive.error}`, '')
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results/reload-watch.md'), lines.join('\n'))
writeFileSync(join(root, 'bench/results/reload-watch.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, dirs, depDirs: deps.length, results }, null, 2) + '\n')
console.log(lines.join('\n'))
