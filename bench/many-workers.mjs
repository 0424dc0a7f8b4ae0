#!/usr/bin/env node
// The master with 256 workers: how long one snapshot takes to build (the arbiter's, then the
// control plane's enriched one, then its JSON as a frame to one client), from 256 synthetic
// worker records with full heartbeat figures, in this process. Not part of npm test (a
// timing is a benchmark figure, not a test); results in bench/results/many-workers.{md,json}.
//   node bench/many-workers.mjs            (BENCH_WORKERS=256, BENCH_RUNS=300)
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = (p) => import(join(root, 'dist', p))
const { resolveConfig } = await dist('server/config/resolve.js')
const { Arbiter } = await dist('server/arbiter/arbiter.js')
const { createWorkerRecord } = await dist('server/arbiter/worker-record.js')
const { ControlServer } = await dist('server/control/control-server.js')
const { LATENCY_BOUNDS_MS } = await dist('shared/protocol.js')

const workers = Number(process.env.BENCH_WORKERS ?? 256)
const runs = Number(process.env.BENCH_RUNS ?? 300)
const config = await resolveConfig(['-w', String(workers), '-k', 'gthread', '--threads', '4', join(root, 'resources/demo/app.mjs')])
const arbiter = new Arbiter(config, { log: { info() {}, debug() {}, warning() {}, error() {}, critical() {}, log() {}, onLine() {}, setLevel() {}, reopen() {} } })
// the arbiter's own table, filled as heartbeats would fill it (no process behind them)
const table = arbiter['workers']
const now = Date.now()
for (let i = 0; i < workers; i++) {
  const w = createWorkerRecord({ id: i + 1, generation: 1, workerClass: 'gthread' })
  Object.assign(w, { pid: 100000 + i, state: 'ready', readyAt: now - 60_000, lastHeartbeat: now - (i % 250), beatEveryMs: 250, traits: { shedsConnections: true, connectionCap: 1000 } })
  w.stats = {
    requests: 123456 + i, inFlight: i % 4, queued: i % 3, connections: 10 + (i % 7), upgraded: 0, threadsBusy: i % 4, threadsTotal: 4,
    threadSlots: [true, false, i % 2 === 0, false], loopLagMs: 1.2, completed: 40, durations: Array.from({ length: 40 }, (_, j) => j),
    latency: { counts: Array.from({ length: LATENCY_BOUNDS_MS.length + 1 }, (_, j) => 1000 * j + i), sumMs: 987654 },
  }
  w.inFlight = [{ method: 'GET', url: `/io?ms=${i}`, startedAt: now - 20, thread: 1 }]
  table.set(w.pid, w)
}
const control = new ControlServer(arbiter, { rateHz: 4 })

function time(fn) {
  const out = []
  for (let i = 0; i < 20; i++) fn() // warm up
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    fn()
    out.push(performance.now() - t0)
  }
  out.sort((a, b) => a - b)
  return { p50: out[Math.floor(runs / 2)], p99: out[Math.floor(runs * 0.99)] }
}
let bytes = 0
const results = {
  arbiter: time(() => arbiter.snapshot()),
  // the control plane's snapshot: the arbiter's plus samples (what the 4 Hz push builds)
  enriched: time(() => control.snapshot()),
  frame: time(() => (bytes = JSON.stringify({ type: 'snapshot', snapshot: control.snapshot() }).length)),
}
control.close()

const f = (x) => x.toFixed(2)
const cpu = os.cpus()
const lines = [
  `# Snapshot for ${workers} workers`,
  '',
  `${new Date().toISOString().slice(0, 10)} · ${cpu.length} vCPU ${cpu[0]?.model ?? ''}, Node ${process.version} · \`node bench/many-workers.mjs\` · ${workers} synthetic gthread worker records with full heartbeat figures · ${runs} runs after 20 warm-up · target: under 5 ms`,
  '',
  '| what | p50 (ms) | p99 (ms) |',
  '|---|---:|---:|',
  `| arbiter.snapshot() | ${f(results.arbiter.p50)} | ${f(results.arbiter.p99)} |`,
  `| control plane snapshot (with samples) | ${f(results.enriched.p50)} | ${f(results.enriched.p99)} |`,
  `| the same as a JSON frame (${(bytes / 1024).toFixed(0)} KiB) | ${f(results.frame.p50)} | ${f(results.frame.p99)} |`,
  '',
]
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results/many-workers.md'), lines.join('\n'))
writeFileSync(join(root, 'bench/results/many-workers.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, workers, runs, bytes, results }, null, 2) + '\n')
console.log(lines.join('\n'))
