#!/usr/bin/env node
// CPU time per request: what a server spends on each hello-world request, summed over the
// master, its workers and all their threads (from /proc), divided by the requests wrk
// completed. On a shared or noisy machine req/s moves by ±10% from run to run; CPU per
// request moves far less, so this is the instrument for deciding whether a change to the
// hot path helped. Alternating rounds, medians, wrk on the same machine. Linux only. Not
// part of npm test.
//   node bench/cpu-per-request.mjs            (BENCH_ROUNDS, BENCH_SECONDS, BENCH_SUBJECTS)
//   BENCH_BASE=/tmp/base node bench/cpu-per-request.mjs
//     adds each paddock subject again as run by another built checkout (`git worktree add
//     /tmp/base <commit>` and `npm run -s build:server` there), in the same alternating
//     rounds, with the same app: "is this change a regression" with the noise of one run.
//   BENCH_OUT=name.md writes the table to bench/results/name.md instead
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { freePort, median, sleep, stop, wrkWithCpu } from './lib/proc.mjs'
import net from 'node:net'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const rounds = Number(process.env.BENCH_ROUNDS ?? 5)
const seconds = Number(process.env.BENCH_SECONDS ?? 5)
const only = process.env.BENCH_SUBJECTS?.split(',')
const demo = join(root, 'resources/demo/app.mjs')
const base = process.env.BENCH_BASE
const paddock = (cls, extra = [], checkout = root, tag = '') => ({ name: `paddock ${cls}${tag}`, cmd: (port) => [process.execPath, [join(checkout, 'bin/paddock.mjs'), '-w', '2', '-k', cls, ...extra, '-b', `127.0.0.1:${port}`, '--no-control-socket', '--log-level', 'warning', demo]] })
const subjects = [
  paddock('sync'),
  paddock('gthread', ['--threads', '4']),
  paddock('async'),
  ...(base ? [paddock('sync', [], base, ' @base'), paddock('gthread', ['--threads', '4'], base, ' @base'), paddock('async', [], base, ' @base')] : []),
  { name: 'node cluster rr', cmd: (port) => [process.execPath, [join(root, 'bench/apps/node-cluster.mjs'), String(port), '2', 'rr']] },
  // sync's floor in Node: its own server answering Connection: close (a connection per request)
  { name: 'node http close', cmd: (port) => [process.execPath, [join(root, 'bench/apps/node-close.mjs'), String(port), '2']] },
  // sync and gthread are judged against Gunicorn's (the WSGI twin of the demo app)
  ...(spawnSync('sh', ['-c', 'command -v gunicorn']).status === 0
    ? ['sync', 'gthread'].map((k) => ({ name: `gunicorn ${k}`, cmd: (port) => ['gunicorn', ['-w', '2', '-k', k, ...(k === 'gthread' ? ['--threads', '4'] : []), '-b', `127.0.0.1:${port}`, '--chdir', join(root, 'bench/apps'), '--log-level', 'warning', 'demo_wsgi:app']] }))
    : []),
].filter((s) => !only || only.some((o) => s.name.includes(o)))

/**
 * true once the server answers a request. A connection closed without an answer or left
 * unanswered for 2 s counts as not yet: without that, a run waited for good on a probe
 * made while 337f29a was starting (its connection was never answered).
 */
const answers = (port) =>
  new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.0\r\n\r\n'))
    const done = (ok) => {
      clearTimeout(t)
      s.destroy()
      resolve(ok)
    }
    const t = setTimeout(() => done(false), 2000)
    s.on('data', () => done(true))
    s.on('close', () => done(false))
    s.on('error', () => done(false))
  })

const results = new Map(subjects.map((s) => [s.name, []]))
for (let r = 0; r < rounds; r++) {
  for (const s of r % 2 ? [...subjects].reverse() : subjects) {
    const port = await freePort()
    const [cmd, args] = s.cmd(port)
    const child = spawn(cmd, args, { stdio: 'ignore' })
    try {
      for (let i = 0; !(await answers(port)); i++) {
        if (i > 100 || child.exitCode !== null) throw new Error(`${s.name} did not start`)
        await sleep(100)
      }
      await sleep(1000)
      spawnSync('wrk', ['-t2', '-c50', '-d1s', `http://127.0.0.1:${port}/`])
      const { us, rps } = wrkWithCpu(child.pid, ['-t2', '-c50'], seconds, `http://127.0.0.1:${port}/`)
      results.get(s.name).push({ us, rps })
      console.log(`${s.name.padEnd(24)} [${r + 1}/${rounds}] ${us.toFixed(2).padStart(7)} µs CPU per request  ${rps.toFixed(0).padStart(7)} req/s  load ${os.loadavg()[0].toFixed(1)}`)
    } finally {
      await stop(child)
    }
  }
}

const lines = [
  '# CPU time per hello-world request',
  '',
  `${new Date().toISOString().slice(0, 10)} · load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} at the end · ${os.cpus().length} vCPU ${os.cpus()[0]?.model ?? ''}, Node ${process.version} · wrk -t2 -c50 on the same machine · ${seconds} s per run · median of ${rounds} alternating rounds · 2 workers each (gthread: 4 threads) · master + workers + all their threads, from /proc`,
  '',
  '| subject | CPU per request (µs) | req/s | all runs (µs) |',
  '|---|---:|---:|---|',
  ...subjects.map((s) => {
    const list = results.get(s.name)
    return `| ${s.name} | ${median(list.map((x) => x.us)).toFixed(2)} | ${median(list.map((x) => x.rps)).toFixed(0)} | ${list.map((x) => x.us.toFixed(2)).join(', ')} |`
  }),
  '',
]
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results', process.env.BENCH_OUT ?? 'cpu-per-request.md'), lines.join('\n'))
console.log('\n' + lines.join('\n'))
