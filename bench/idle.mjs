#!/usr/bin/env node
// Idle cost and start-up: what a server costs while nobody sends it anything, and how long
// from `exec` to its first 200. Side by side in one run with Gunicorn and Node's cluster on
// the same machine; CPU time is read from /proc for the whole process tree (master, workers,
// their threads). Linux only. Not part of npm test: figures go to bench/results/idle.{md,json}.
//   node bench/idle.mjs      (BENCH_IDLE_SECONDS=10, BENCH_STARTS=5, BENCH_SUBJECTS=sync,gunicorn,...)
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { answers200, cpuMsPrecise, freePort, median, processTree, sleep, stop } from './lib/proc.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS ?? 10)
const starts = Number(process.env.BENCH_STARTS ?? 5)
const only = process.env.BENCH_SUBJECTS?.split(',')
const demo = join(root, 'resources/demo/app.mjs')
const cli = join(root, 'bin/paddock.mjs')
const tmp = mkdtempSync(join(os.tmpdir(), 'paddock-idle-'))
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0

const paddock = (cls, extra = []) => ({
  name: `paddock ${cls}`,
  paddock: true,
  cmd: (port, workers, sock) => [process.execPath, [cli, '-w', String(workers), '-k', cls, ...extra, '-b', `127.0.0.1:${port}`, '--control-socket', sock, '--log-level', 'warning', demo]],
})
const subjects = [
  paddock('sync'),
  paddock('async'),
  paddock('gthread', ['--threads', '4']),
  have('gunicorn') && {
    name: 'gunicorn sync',
    cmd: (port, workers) => ['gunicorn', ['-w', String(workers), '-k', 'sync', '-b', `127.0.0.1:${port}`, '--chdir', join(root, 'bench/apps'), '--log-level', 'warning', 'demo_wsgi:app']],
  },
  { name: 'node cluster', cmd: (port, workers) => [process.execPath, [join(root, 'bench/apps/node-cluster.mjs'), String(port), String(workers), 'rr']] },
].filter(Boolean).filter((s) => !only || only.some((o) => s.name.includes(o)))

/** start, wait for the first 200, and return the child with the time it took */
async function launch(subject, workers) {
  const port = await freePort()
  const sock = join(tmp, `c${port}.sock`)
  const [cmd, args] = subject.cmd(port, workers, sock)
  const t0 = process.hrtime.bigint()
  const child = spawn(cmd, args, { stdio: 'ignore' })
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${subject.name} exited during start`)
    if (await answers200(port)) break
    if (Number(process.hrtime.bigint() - t0) > 60e9) {
      await stop(child)
      throw new Error(`${subject.name} gave no 200 within 60 s`)
    }
    await sleep(5)
  }
  return { child, port, sock, startMs: Number(process.hrtime.bigint() - t0) / 1e6 }
}

/**
 * After start-up V8 keeps compiling and collecting for several seconds (its memory reducer
 * runs about 8 s after allocation slows): that is not idling. Node cluster read 3.6 ms/s
 * after 5 s of settling and 0.4 ms/s after 20 s on the same machine.
 */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 20000)

/**
 * CPU per second of the whole tree over `seconds`, after a settle time; also the master's
 * share (the root process) so the rest is the workers'. On-CPU time with ns precision
 * (schedstat): 10 ms ticks cannot tell 1 ms/s from 3 ms/s over a 10 s window.
 */
async function idleCpu(child, seconds, exclude = []) {
  await sleep(SETTLE_MS)
  const pids = processTree(child.pid).filter((p) => !exclude.includes(p))
  const before = cpuMsPrecise(pids)
  const masterBefore = cpuMsPrecise([child.pid])
  await sleep(seconds * 1000)
  const total = (cpuMsPrecise(pids) - before) / seconds
  const master = (cpuMsPrecise([child.pid]) - masterBefore) / seconds
  return { total, master }
}

const results = []
for (const s of subjects) {
  const r = { subject: s.name }
  const times = []
  for (let i = 0; i < starts; i++) {
    const { child, startMs } = await launch(s, 2)
    times.push(startMs)
    await stop(child)
  }
  r.startMs = median(times)
  r.startRuns = times.map((t) => Math.round(t))
  {
    const { child } = await launch(s, 2)
    try {
      const m = await idleCpu(child, idleSeconds)
      r.idle2 = m.total
      r.idle2Master = m.master
    } finally {
      await stop(child)
    }
  }
  if (s.paddock) {
    // a dashboard attached: `ctl watch` takes every pushed snapshot (4 Hz) over the control socket
    const { child, sock } = await launch(s, 2)
    const watcher = spawn(process.execPath, [cli, 'ctl', 'watch', '--socket', sock], { stdio: 'ignore' })
    try {
      // the watcher is not part of the server's tree (it is our child, not the server's)
      r.idle2Watched = (await idleCpu(child, idleSeconds)).total
    } finally {
      await stop(watcher, 'SIGINT')
      await stop(child)
    }
  }
  {
    const { child } = await launch(s, 8)
    try {
      r.idle8 = (await idleCpu(child, idleSeconds)).total
    } finally {
      await stop(child)
    }
  }
  r.perIdleWorker = (r.idle8 - r.idle2) / 6
  results.push(r)
  const f = (x) => (x === undefined ? '-' : x.toFixed(1))
  console.log(`${s.name.padEnd(16)} start ${r.startMs.toFixed(0).padStart(5)} ms  idle(2) ${f(r.idle2).padStart(5)} ms/s (master ${f(r.idle2Master)})  watched ${f(r.idle2Watched).padStart(5)} ms/s  idle(8) ${f(r.idle8).padStart(5)} ms/s  per worker ${f(r.perIdleWorker)} ms/s`)
}

const cpu = os.cpus()
const f = (x) => (x === undefined ? '-' : x.toFixed(1))
const lines = [
  '# Idle cost and start-up',
  '',
  `${new Date().toISOString().slice(0, 10)} · ${cpu.length} vCPU ${cpu[0]?.model ?? ''}, Node ${process.version} · \`node bench/idle.mjs\` · on-CPU time from /proc/*/task/*/schedstat over ${idleSeconds} s for the whole process tree after ${SETTLE_MS / 1000} s settling · start = exec to first 200, median of ${starts}`,
  '',
  '| subject | start to first 200, 2 workers (ms) | idle, 2 workers (ms CPU/s) | of which the master | idle, 2 workers, dashboard attached (ms CPU/s) | idle, 8 workers (ms CPU/s) | per extra idle worker (ms CPU/s) |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...results.map((r) => `| ${r.subject} | ${r.startMs.toFixed(0)} | ${f(r.idle2)} | ${f(r.idle2Master)} | ${f(r.idle2Watched)} | ${f(r.idle8)} | ${f(r.perIdleWorker)} |`),
  '',
]
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results/idle.md'), lines.join('\n'))
writeFileSync(join(root, 'bench/results/idle.json'), JSON.stringify({ date: new Date().toISOString(), cpu: cpu[0]?.model, vcpus: cpu.length, node: process.version, load: os.loadavg(), idleSeconds, starts, results }, null, 2) + '\n')
console.log('\n' + lines.join('\n'))
