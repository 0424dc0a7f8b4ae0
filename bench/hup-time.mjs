#!/usr/bin/env node
// HUP to all-old-gone under a steady load: the arbiter's own "Reload N done in X ms" (from
// the HUP to the last worker of the old generation gone), 4 workers, wrk with keep-alive
// connections on /io?ms=20 for the whole run, and every failed request wrk saw. Linux; needs wrk.
//   node bench/hup-time.mjs      (BENCH_HUPS=3, BENCH_SUBJECTS=sync,async)
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { answers200, freePort, median, sleep, stop } from './lib/proc.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const hups = Number(process.env.BENCH_HUPS ?? 3)
const classes = (process.env.BENCH_SUBJECTS ?? 'sync,async').split(',')
const results = []
for (const cls of classes) {
  const port = await freePort()
  const child = spawn(process.execPath, [join(root, 'bin/paddock.mjs'), '-w', '4', '-k', cls, '-b', `127.0.0.1:${port}`, '--no-control-socket', join(root, 'resources/demo/app.mjs')], { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout.on('data', (d) => (log += d))
  child.stderr.on('data', (d) => (log += d))
  try {
    while (!(await answers200(port))) await sleep(20)
    await sleep(3000)
    const seconds = hups * 3 + 2
    const wrk = spawn('wrk', ['-t2', '-c20', `-d${seconds}s`, `http://127.0.0.1:${port}/io?ms=20`], { stdio: ['ignore', 'pipe', 'ignore'] })
    let out = ''
    wrk.stdout.on('data', (d) => (out += d))
    const wrkDone = new Promise((r) => wrk.on('exit', r))
    await sleep(1000)
    for (let i = 0; i < hups; i++) {
      process.kill(child.pid, 'SIGHUP')
      for (let t = 0; t < 100 && !new RegExp(`Reload ${i + 1} done in`).test(log); t++) await sleep(50)
      await sleep(2500)
    }
    await wrkDone
    const times = [...log.matchAll(/Reload \d+ done in (\d+) ms/g)].map((m) => Number(m[1]))
    const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0)
    const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
    const failed = (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0) + Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0)
    results.push({ subject: `paddock ${cls}`, reloadMs: times, medianMs: median(times), requests, failed })
    console.log(`paddock ${cls}: HUP to all-old-gone ${times.join(', ')} ms (median ${median(times)}), ${requests} requests, ${failed} failed`)
  } finally {
    await stop(child)
  }
}
const cpu = os.cpus()
const lines = [
  '# HUP under a steady load',
  '',
  `${new Date().toISOString().slice(0, 10)} · ${cpu.length} vCPU ${cpu[0]?.model ?? ''}, Node ${process.version} · \`node bench/hup-time.mjs\` · 4 workers, wrk -t2 -c20 on /io?ms=20 for the whole run, ${hups} HUP 3 s apart · time = the arbiter's "Reload N done in" (HUP to the last old worker gone) · target: at most 500 ms, 0 failed`,
  '',
  '| subject | HUP to all-old-gone (ms), each | median | requests | failed |',
  '|---|---|---:|---:|---:|',
  ...results.map((r) => `| ${r.subject} | ${r.reloadMs.join(', ')} | ${r.medianMs} | ${r.requests} | ${r.failed} |`),
  '',
]
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results/hup-time.md'), lines.join('\n'))
writeFileSync(join(root, 'bench/results/hup-time.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, hups, results }, null, 2) + '\n')
console.log('\n' + lines.join('\n'))
