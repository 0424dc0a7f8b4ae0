#!/usr/bin/env node
// `npm run bench`: paddock's worker classes against Node's cluster module and Gunicorn,
// on the same machine, in one run, with wrk as the client. Not part of `npm test`.
//
// Each scenario runs every subject for BENCH_SECONDS (default 5) after a 1 s warm-up,
// in alternating order (reversed every other scenario) so drift in the machine does not
// favour one subject. Results: bench/results/latest.md (+ .json), ratios against Node
// cluster and against each class's Gunicorn counterpart.
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const seconds = Number(process.env.BENCH_SECONDS ?? 5)
const workers = Number(process.env.BENCH_WORKERS ?? 2)
const threads = Number(process.env.BENCH_THREADS ?? 4)
const onlyScenario = process.env.BENCH_SCENARIOS?.split(',')
const onlySubject = process.env.BENCH_SUBJECTS?.split(',')
// Each scenario is run this many times over all subjects, alternating the order; the
// median run (by req/s) of each subject is reported. On a shared 2-vCPU machine one run
// can be 20% off; three or five rounds make the ratios trustworthy.
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1))
// hello world carries the ratio targets and is the noisiest (runs vary by ±10% here, for
// every server): five rounds unless told
const helloRounds = Math.max(1, Number(process.env.BENCH_HELLO_ROUNDS ?? Math.max(5, rounds)))
const roundsFor = (scenario) => (scenario.name === 'hello' ? helloRounds : rounds)

const scenarios = [
  { name: 'hello', path: '/', connections: 50 },
  { name: 'io100', path: '/io?ms=100', connections: 100, bound: 100 / 0.1 },
  { name: 'io1000', path: '/io?ms=100', connections: 1000, bound: 1000 / 0.1 },
  { name: 'cpu10', path: '/cpu?ms=10', connections: 20 },
  { name: 'block50', path: '/block?ms=50', connections: 20 },
  { name: 'stream1MiB', path: '/stream?chunks=16&size=65536&ms=0', connections: 10 },
].filter((s) => !onlyScenario || onlyScenario.includes(s.name))

const demo = join(root, 'resources/demo/app.mjs')
const paddock = (cls, extra = []) => ({
  name: `paddock ${cls}`,
  family: 'paddock',
  cls,
  start: (port) => ['node', [join(root, 'bin/paddock.mjs'), '-w', String(workers), '-k', cls, ...extra, '-b', `127.0.0.1:${port}`, '--no-control-socket', '--log-level', 'warning', demo]],
})
const gunicorn = (cls, extra = []) => ({
  name: `gunicorn ${cls}`,
  family: 'gunicorn',
  cls,
  start: (port) => ['gunicorn', ['-w', String(workers), '-k', cls, ...extra, '-b', `127.0.0.1:${port}`, '--chdir', join(root, 'bench/apps'), '--log-level', 'warning', 'demo_wsgi:app']],
})
const subjects = [
  paddock('sync'),
  paddock('gthread', ['--threads', String(threads)]),
  paddock('async'),
  { name: 'node cluster rr', family: 'node', start: (port) => ['node', [join(root, 'bench/apps/node-cluster.mjs'), String(port), String(workers), 'rr']] },
  { name: 'node cluster none', family: 'node', start: (port) => ['node', [join(root, 'bench/apps/node-cluster.mjs'), String(port), String(workers), 'none']] },
  gunicorn('sync'),
  gunicorn('gthread', ['--threads', String(threads)]),
  gunicorn('gevent', ['--worker-connections', '1000']),
].filter((s) => !onlySubject || onlySubject.some((o) => s.name.includes(o)))

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
}

function ensureTools() {
  const wanted = [['wrk', 'wrk'], ['gunicorn', 'gunicorn'], ['/usr/bin/python3 -c "import gevent"', 'python3-gevent']]
  const missing = wanted.filter(([probe]) => spawnSync('sh', ['-c', probe.includes(' ') ? probe : `command -v ${probe}`], { stdio: 'ignore' }).status !== 0).map(([, pkg]) => pkg)
  if (missing.length && process.getuid?.() === 0 && have('apt-get')) {
    console.log(`installing ${missing.join(' ')} from Debian`)
    spawnSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  }
  if (!have('wrk')) throw new Error('bench: wrk is needed (apt-get install wrk)')
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

async function startSubject(subject) {
  const port = await freePort()
  const [cmd, args] = subject.start(port)
  const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout.on('data', (d) => (log += d))
  child.stderr.on('data', (d) => (log += d))
  const run = { child, port, log: () => log }
  // Ready when the port answers; then give every worker time to boot.
  const deadline = Date.now() + 20_000
  while (!(await probe(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stopSubject(run)
      throw new Error(`${subject.name}: not answering on port ${port}:\n${log}`)
    }
    await sleep(100)
  }
  await sleep(1000)
  return run
}

function probe(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      // a probe that half-closed would be taken as a client gone, as by any Node server
      s.write('GET / HTTP/1.0\r\n\r\n')
    })
    s.on('data', () => { s.destroy(); resolve(true) })
    s.on('error', () => resolve(false))
    s.on('close', () => resolve(false))
    s.setTimeout(1000, () => { s.destroy(); resolve(false) })
  })
}

async function stopSubject(run) {
  const { child } = run
  if (child.exitCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(t)
}

function descendants(pid) {
  const out = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === pid) out.push(Number(d))
    } catch {}
  }
  return out
}

function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : 0
  } catch {
    return 0
  }
}

function runWrk(port, scenario, secs) {
  const threadsWrk = Math.min(2, scenario.connections)
  const r = spawnSync('wrk', ['-t', String(threadsWrk), '-c', String(scenario.connections), '-d', `${secs}s`, '--timeout', '5s', '--latency', `http://127.0.0.1:${port}${scenario.path}`], { encoding: 'utf8', timeout: (secs + 30) * 1000 })
  return parseWrk(r.stdout + r.stderr)
}

function toMs(v, unit) {
  const n = Number(v)
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60000 : n
}

export function parseWrk(text) {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? 0)
  const lat = (p) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s|m)`).exec(text)
    return m ? toMs(m[1], m[2]) : null
  }
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text)
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0)
  const total = Number(/(\d+) requests in/.exec(text)?.[1] ?? 0)
  const errors = (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0) + non2xx
  return { rps, p50: lat(50), p99: lat(99), errors, total, raw: text }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function main() {
  ensureTools()
  const results = []
  for (const [i, scenario] of scenarios.entries()) {
    const runs = new Map()
    const n = roundsFor(scenario)
    for (let round = 0; round < n; round++) {
      const order = (i + round) % 2 === 0 ? subjects : [...subjects].reverse()
      for (const subject of order) {
        if (subject.family === 'gunicorn' && !have('gunicorn')) continue
        process.stdout.write(`${scenario.name.padEnd(11)} ${subject.name.padEnd(20)} ${n > 1 ? `[${round + 1}/${n}] ` : ''}`)
        let run
        let row
        try {
          run = await startSubject(subject)
          runWrk(run.port, scenario, 1)
          const kids = descendants(run.child.pid)
          const m = runWrk(run.port, scenario, seconds)
          const rss = kids.length ? kids.reduce((a, p) => a + rssKiB(p), 0) / kids.length / 1024 : null
          row = { scenario: scenario.name, subject: subject.name, family: subject.family, cls: subject.cls, ...m, raw: undefined, rssMiB: rss }
          console.log(`${m.rps.toFixed(0).padStart(8)} req/s  p50 ${fmt(m.p50)}  p99 ${fmt(m.p99)}  errors ${m.errors}`)
        } catch (err) {
          console.log(`failed: ${err.message.split('\n')[0]}`)
          row = { scenario: scenario.name, subject: subject.name, family: subject.family, cls: subject.cls, rps: 0, p50: null, p99: null, errors: -1, failed: err.message }
        } finally {
          if (run) await stopSubject(run)
        }
        runs.set(subject.name, [...(runs.get(subject.name) ?? []), row])
      }
    }
    for (const list of runs.values()) results.push(median(list))
  }
  const out = report(results)
  mkdirSync(join(root, 'bench/results'), { recursive: true })
  writeFileSync(join(root, 'bench/results/latest.md'), out)
  writeFileSync(join(root, 'bench/results/latest.json'), JSON.stringify({ date: new Date().toISOString(), machine: machine(), seconds, rounds, helloRounds, workers, threads, results }, null, 2))
  console.log('\n' + out)
}

/** The run with the median req/s; errors summed over every run, so none is hidden. */
function median(list) {
  const sorted = [...list].sort((a, b) => a.rps - b.rps)
  const mid = sorted[Math.floor((sorted.length - 1) / 2)]
  const errors = list.some((r) => r.errors < 0) ? -1 : list.reduce((a, r) => a + r.errors, 0)
  return { ...mid, errors, rounds: list.length, allRps: list.map((r) => Math.round(r.rps)) }
}

function fmt(v) {
  return v === null || v === undefined ? '   -   ' : `${v.toFixed(1)}ms`.padStart(8)
}

function machine() {
  return `${os.cpus().length} vCPU ${os.cpus()[0]?.model ?? ''}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.type()} ${os.release()}`
}

const counterpart = { sync: 'gunicorn sync', gthread: 'gunicorn gthread', async: 'gunicorn gevent' }

function report(results) {
  const lines = [`# paddock benchmark`, '', `${new Date().toISOString().slice(0, 10)} · ${machine()} · wrk on the same machine · ${seconds} s per run (hello: median of ${helloRounds} rounds${rounds > 1 ? `, others: median of ${rounds}` : ''}, in alternating order) · ${workers} worker processes each (gthread: ${threads} threads)`, '']
  for (const scenario of scenarios) {
    const rows = results.filter((r) => r.scenario === scenario.name)
    if (!rows.length) continue
    const node = rows.find((r) => r.subject === 'node cluster rr')
    lines.push(`## ${scenario.name}: \`${scenario.path}\`, ${scenario.connections} connections${scenario.bound ? ` (bound ${scenario.bound} req/s)` : ''}`, '')
    lines.push('| subject | req/s | p50 ms | p99 ms | errors | RSS/worker MiB | vs Node cluster | vs Gunicorn |', '|---|---:|---:|---:|---:|---:|---:|---:|')
    for (const r of rows) {
      const g = r.family === 'paddock' ? rows.find((x) => x.subject === counterpart[r.cls]) : null
      const ratio = (a, b) => (b && b.rps > 0 && a.rps > 0 ? `${(a.rps / b.rps).toFixed(2)}x` : '-')
      lines.push(`| ${r.subject} | ${r.rps.toFixed(0)} | ${r.p50?.toFixed(1) ?? '-'} | ${r.p99?.toFixed(1) ?? '-'} | ${r.errors < 0 ? 'failed' : r.errors} | ${r.rssMiB ? r.rssMiB.toFixed(0) : '-'} | ${r.family === 'paddock' ? ratio(r, node) : '-'} | ${g ? ratio(r, g) : '-'} |`)
    }
    lines.push('')
  }
  lines.push(...targets(results))
  return lines.join('\n')
}

/** The targets paddock is held to (issue 7), computed from this run: met or not, honestly. */
function targets(results) {
  const rps = (scenario, subject) => results.find((r) => r.scenario === scenario && r.subject === subject && r.rps > 0)?.rps
  const rows = []
  const ratio = (label, scenario, a, b, goal) => {
    const x = rps(scenario, a)
    const y = rps(scenario, b)
    if (!x || !y) return
    const r = x / y
    rows.push(`| ${label} | ${r.toFixed(2)}x | ${goal.toFixed(1)}x | ${r >= goal ? 'met' : '**not met**'} |`)
  }
  ratio('hello: paddock async vs Node cluster (rr)', 'hello', 'paddock async', 'node cluster rr', 0.9)
  ratio('hello: paddock sync vs Gunicorn sync', 'hello', 'paddock sync', 'gunicorn sync', 1.2)
  ratio('hello: paddock gthread vs Gunicorn gthread', 'hello', 'paddock gthread', 'gunicorn gthread', 2)
  ratio('hello: paddock async vs Gunicorn gevent', 'hello', 'paddock async', 'gunicorn gevent', 2)
  for (const sc of scenarios.filter((x) => x.bound)) {
    const x = rps(sc.name, 'paddock async')
    if (x) rows.push(`| ${sc.name}: paddock async vs the bound ${sc.bound} req/s | ${(x / sc.bound).toFixed(2)}x | 0.9x | ${x >= 0.9 * sc.bound ? 'met' : '**not met**'} |`)
  }
  if (!rows.length) return []
  return ['## Targets', '', '| target | measured | goal | |', '|---|---:|---:|---|', ...rows, '']
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(`bench: ${err.message}`)
    process.exit(1)
  })
}
