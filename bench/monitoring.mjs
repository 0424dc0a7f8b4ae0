#!/usr/bin/env node
// What watching costs: hello-world throughput of paddock async (-w 2) with no control plane
// at all, against the same server with its control socket, a live `paddock ctl watch`
// subscribed (4 Hz snapshots, per-process CPU / RSS sampling at 1 Hz) and Prometheus scraped
// every second. Alternating rounds, medians, wrk on the same machine. Not part of npm test.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const seconds = Number(process.env.BENCH_SECONDS ?? 3)
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const demo = join(root, 'resources/demo/app.mjs')
const cli = join(root, 'bin/paddock.mjs')

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function waitPort(port) {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((r) => net.connect(port, '127.0.0.1').once('connect', function () { this.destroy(); r(true) }).once('error', () => r(false)))
    if (ok) return
    await sleep(100)
  }
  throw new Error(`port ${port} never opened`)
}

async function run(monitored) {
  if (process.env.BENCH_DEBUG) console.error("run", monitored)
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'paddock-mon-'))
  const sock = join(dir, 'ctl.sock')
  const metricsPort = await freePort()
  const args = [cli, '-w', '2', '-k', 'async', '-b', `127.0.0.1:${port}`, '--log-level', 'warning', ...(monitored ? ['--control-socket', sock, '--metrics-bind', `127.0.0.1:${metricsPort}`] : ['--no-control-socket']), demo]
  const server = spawn(process.execPath, args, { stdio: 'ignore' })
  const helpers = []
  try {
    await waitPort(port)
    if (process.env.BENCH_DEBUG) console.error('port open', port)
    await sleep(1000)
    let scraping = true
    if (monitored) {
      helpers.push(spawn(process.execPath, [cli, 'ctl', '--socket', sock, 'watch'], { stdio: 'ignore' }))
      void (async () => {
        while (scraping) {
          await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text()).catch(() => {})
          await sleep(1000)
        }
      })()
    }
    spawnSync('wrk', ['-t2', '-c50', '-d1s', `http://127.0.0.1:${port}/`])
    const out = spawnSync('wrk', ['-t2', '-c50', `-d${seconds}s`, `http://127.0.0.1:${port}/`], { encoding: 'utf8' }).stdout
    scraping = false
    if (process.env.BENCH_DEBUG) console.error('wrk done')
    return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0)
  } finally {
    for (const h of helpers) h.kill('SIGKILL')
    server.kill('SIGTERM')
    await new Promise((r) => server.once('exit', r))
  }
}

const bare = []
const watched = []
for (let i = 0; i < rounds; i++) {
  // alternate the order so drift in a shared machine does not favour one side
  if (i % 2 === 0) {
    bare.push(await run(false))
    watched.push(await run(true))
  } else {
    watched.push(await run(true))
    bare.push(await run(false))
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]
const b = median(bare)
const w = median(watched)
const line = `monitoring overhead (hello, async -w 2, 50 conns, ${rounds} x ${seconds} s, medians): bare ${b.toFixed(0)} req/s, monitored ${w.toFixed(0)} req/s, cost ${((1 - w / b) * 100).toFixed(1)}%`
console.log(line)
console.log(`rounds: bare ${bare.map((x) => x.toFixed(0)).join(', ')}; monitored ${watched.map((x) => x.toFixed(0)).join(', ')}`)
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results/monitoring.json'), JSON.stringify({ at: new Date().toISOString(), bare, watched, medianBare: b, medianMonitored: w, costPct: (1 - w / b) * 100 }, null, 2))
