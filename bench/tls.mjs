#!/usr/bin/env node
// TLS hello world: paddock async against Node's https + cluster (round-robin), side by side,
// 2 workers each, the same certificate (EC P-256, made with openssl). Two workloads:
//   keep-alive   wrk -c50: TLS record cost per request (one handshake per connection)
//   handshakes   wrk -c10 with Connection: close: a full handshake per request
// req/s and CPU per request (master + workers + threads, from /proc), alternating rounds,
// medians. Writes bench/results/tls.md. Short by design: BENCH_SECONDS (default 3) per run,
// BENCH_ROUNDS (default 3). Linux only.
import { spawn, spawnSync, execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import https from 'node:https'
import os from 'node:os'
import { join } from 'node:path'
import { freePort, median, sleep, stop, wrkWithCpu } from './lib/proc.mjs'

const root = new URL('..', import.meta.url).pathname
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const seconds = Number(process.env.BENCH_SECONDS ?? 3)
const demo = join(root, 'resources/demo/app.mjs')

const dir = mkdtempSync(join(os.tmpdir(), 'paddock-bench-tls-'))
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir, stdio: 'ignore' })
const cert = join(dir, 'cert.pem')
const key = join(dir, 'key.pem')

const subjects = [
  { name: 'paddock async', cmd: (port) => [process.execPath, [join(root, 'bin/paddock.mjs'), '-w', '2', '-k', 'async', '--certfile', cert, '--keyfile', key, '-b', `127.0.0.1:${port}`, '--no-control-socket', '--log-level', 'warning', demo]] },
  { name: 'node https cluster', cmd: (port) => [process.execPath, [join(root, 'bench/apps/node-https-cluster.mjs'), String(port), '2', cert, key]] },
]
const workloads = [
  { name: 'keep-alive', args: ['-t2', '-c50'] },
  { name: 'handshakes', args: ['-t2', '-c10', '-H', 'Connection: close'] },
]

const answers = (port) =>
  new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/', rejectUnauthorized: false, agent: false }, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('error', () => resolve(false))
  })

const results = new Map()
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
      for (const w of workloads) {
        const url = `https://127.0.0.1:${port}/`
        // 3 s of warm-up: the first seconds after start run cold code (measured: 5.9k req/s in the
        // first 2 s of a fresh paddock, 11-12k in the next three)
        spawnSync('wrk', [...w.args, '-d3s', url])
        const { rps, us, non2xx } = wrkWithCpu(child.pid, w.args, seconds, url)
        const key = `${w.name}|${s.name}`
        if (!results.has(key)) results.set(key, [])
        results.get(key).push({ rps, us, errors: non2xx })
        console.log(`round ${r + 1} ${w.name.padEnd(10)} ${s.name.padEnd(20)} ${rps.toFixed(0).padStart(7)} req/s ${us.toFixed(1).padStart(6)} us CPU/req`)
      }
    } finally {
      await stop(child)
    }
  }
}

const lines = [
  '# TLS hello world: paddock async vs Node https + cluster',
  '',
  `Written by \`node bench/tls.mjs\` (BENCH_ROUNDS=${rounds}, BENCH_SECONDS=${seconds}) on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} vCPU, wrk on the same cores.`,
  '2 workers each, the demo app\'s `/`, one EC P-256 certificate, TLS 1.2 minimum and ALPN http/1.1 on both. Medians of alternating rounds.',
  '',
  '| workload | subject | req/s | CPU per request (us) | non-2xx |',
  '|---|---|---:|---:|---:|',
]
for (const w of workloads) {
  for (const s of subjects) {
    const rs = results.get(`${w.name}|${s.name}`) ?? []
    lines.push(`| ${w.name} | ${s.name} | ${median(rs.map((x) => x.rps)).toFixed(0)} | ${median(rs.map((x) => x.us)).toFixed(1)} | ${rs.reduce((a, x) => a + x.errors, 0)} |`)
  }
  const a = median((results.get(`${w.name}|paddock async`) ?? []).map((x) => x.rps))
  const b = median((results.get(`${w.name}|node https cluster`) ?? []).map((x) => x.rps))
  lines.push(`| ${w.name} | **ratio** | **${(a / b).toFixed(2)}x** | | |`)
}
lines.push('', 'keep-alive: 50 connections, each handshakes once, then requests flow (TLS record cost). handshakes: 10 connections with `Connection: close`, a full handshake per request (ECDHE + signature dominate). Target (issue 14): within 10% of Node https + cluster, i.e. a ratio of 0.9x or more.', '')
writeFileSync(join(root, 'bench/results/tls.md'), lines.join('\n'))
console.log(lines.join('\n'))
