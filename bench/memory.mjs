#!/usr/bin/env node
// Memory per worker under the hello load, measured and explained: RSS of each worker before
// and after a wrk run, and a V8 heap snapshot of one worker before and after (each taken
// after a full GC, with --heapsnapshot-signal) diffed by constructor: what the run left
// behind. paddock's classes beside Node's cluster, 1 worker each so the load goes to the
// worker that is snapshotted. Two runs: the first for RSS under load (the highest read,
// every 250 ms), the second between the snapshots, with a third one in its middle: what
// the worker holds while its 50 connections are open (per connection, per request in
// flight); the snapshot after the run, once wrk closed them, cannot show that. Two floors beside them: Node's own http server
// answering `Connection: close` (what a connection per request costs Node, sync's way), and
// gthread with 1 thread (the difference to 4 threads is the cost of 3 more threads).
// Linux only; needs wrk. Results in bench/results/memory.{md,json}.
//   node bench/memory.mjs      (BENCH_SECONDS=5, BENCH_SUBJECTS=sync,async,gthread,cluster, BENCH_BASE=<checkout>)
import { spawn, spawnSync, execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { answers200, freePort, processTree, rssMiB, sleep, stop } from './lib/proc.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const seconds = Number(process.env.BENCH_SECONDS ?? 5)
const only = process.env.BENCH_SUBJECTS?.split(',')
const demo = join(root, 'resources/demo/app.mjs')
const flag = '--heapsnapshot-signal=SIGUSR2'
const base = process.env.BENCH_BASE
const paddock = (cls, extra = [], checkout = root, tag = '') => ({ name: `paddock ${cls}${tag}`, cmd: (port) => [process.execPath, [flag, join(checkout, 'bin/paddock.mjs'), '-w', '1', '-k', cls, ...extra, '-b', `127.0.0.1:${port}`, '--no-control-socket', '--log-level', 'warning', demo]] })
const subjects = [
  paddock('sync'),
  paddock('async'),
  paddock('gthread', ['--threads', '4']),
  { ...paddock('gthread', ['--threads', '1']), name: 'paddock gthread 1 thread' },
  // BENCH_BASE=<another built checkout>: its sync and async beside these (before / after a change)
  ...(base ? [paddock('sync', [], base, ' @base'), paddock('async', [], base, ' @base')] : []),
  { name: 'node http close', single: true, cmd: (port) => [process.execPath, [flag, join(root, 'bench/apps/node-close.mjs'), String(port)]] },
  { name: 'node cluster', cmd: (port) => [process.execPath, [flag, join(root, 'bench/apps/node-cluster.mjs'), String(port), '1', 'rr']] },
].filter((s) => !only || only.some((o) => s.name.includes(o)))

/** self size per constructor name (and in all) of a .heapsnapshot */
function heapByName(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'))
  const f = snap.snapshot.meta.node_fields
  const types = snap.snapshot.meta.node_types[0]
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((n) => f.indexOf(n))
  const by = new Map()
  let total = 0
  for (let i = 0; i < snap.nodes.length; i += f.length) {
    const type = types[snap.nodes[i + iType]]
    const name = type === 'object' || type === 'closure' ? snap.strings[snap.nodes[i + iName]] : `(${type})`
    const size = snap.nodes[i + iSize]
    total += size
    const e = by.get(name) ?? { count: 0, size: 0 }
    e.count++
    e.size += size
    by.set(name, e)
  }
  return { total, by }
}

async function snapshotOf(pid, dir) {
  const before = new Set(readdirSync(dir))
  process.kill(pid, 'SIGUSR2')
  for (let i = 0; i < 600; i++) {
    await sleep(100)
    const fresh = readdirSync(dir).filter((x) => x.endsWith('.heapsnapshot') && !before.has(x))
    // written when its size stops changing
    if (fresh.length) {
      const file = join(dir, fresh[0])
      let last = -1
      for (;;) {
        const size = readFileSync(file).length
        if (size === last && size > 0) return file
        last = size
        await sleep(300)
      }
    }
  }
  throw new Error(`no heap snapshot from ${pid}`)
}

const results = []
for (const s of subjects) {
  const dir = mkdtempSync(join(os.tmpdir(), 'paddock-heap-'))
  const port = await freePort()
  const [cmd, args] = s.cmd(port)
  const child = spawn(cmd, args, { stdio: 'ignore', cwd: dir })
  try {
    while (!(await answers200(port))) await sleep(20)
    await sleep(1000)
    const worker = s.single ? child.pid : processTree(child.pid).find((p) => p !== child.pid)
    spawnSync('wrk', ['-t2', '-c50', '-d1s', `http://127.0.0.1:${port}/`])
    await sleep(500)
    const rssWarm = rssMiB(worker)
    // RSS under load from a run of its own, before any snapshot: writing one takes memory
    // that the allocator may keep, and RSS read after it would count that
    const loaded = new Promise((resolve) => execFile('wrk', ['-t2', '-c50', `-d${seconds}s`, `http://127.0.0.1:${port}/`], () => resolve()))
    let rssLoaded = 0
    let loading = true
    loaded.then(() => (loading = false))
    while (loading) {
      rssLoaded = Math.max(rssLoaded, rssMiB(worker))
      await sleep(250)
    }
    await sleep(500)
    const h0 = heapByName(await snapshotOf(worker, dir))
    const wrk = new Promise((resolve) => execFile('wrk', ['-t2', '-c50', `-d${seconds}s`, `http://127.0.0.1:${port}/`], { encoding: 'utf8' }, (_e, stdout) => resolve(stdout)))
    await sleep((seconds * 1000) / 2)
    const hMid = heapByName(await snapshotOf(worker, dir))
    const out = await wrk
    const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0)
    await sleep(500)
    const h1 = heapByName(await snapshotOf(worker, dir))
    const held = [...hMid.by].map(([name, e]) => ({ name, count: e.count - (h0.by.get(name)?.count ?? 0), bytes: e.size - (h0.by.get(name)?.size ?? 0) })).sort((a, b) => b.bytes - a.bytes).slice(0, 6)
    const grew = [...h1.by].map(([name, e]) => ({ name, count: e.count - (h0.by.get(name)?.count ?? 0), bytes: e.size - (h0.by.get(name)?.size ?? 0) })).sort((a, b) => b.bytes - a.bytes).slice(0, 6)
    const r = { subject: s.name, requests, rssWarmMiB: rssWarm, rssLoadedMiB: rssLoaded, heapBeforeMiB: h0.total / 2 ** 20, heapMidMiB: hMid.total / 2 ** 20, held, heapAfterMiB: h1.total / 2 ** 20, grew }
    results.push(r)
    console.log(`${s.name.padEnd(16)} RSS ${rssWarm.toFixed(0)} -> ${rssLoaded.toFixed(0)} MiB under load; live heap ${r.heapBeforeMiB.toFixed(1)} -> ${r.heapMidMiB.toFixed(1)} during -> ${r.heapAfterMiB.toFixed(1)} MiB after ${requests} requests; held during: ${held.slice(0, 4).map((g) => `${g.name} ${g.count >= 0 ? '+' : ''}${g.count} (${(g.bytes / 1024).toFixed(0)} KiB)`).join(', ')}; grew: ${grew.map((g) => `${g.name} ${g.count >= 0 ? '+' : ''}${g.count} (${(g.bytes / 1024).toFixed(0)} KiB)`).join(', ')}`)
  } finally {
    await stop(child)
    rmSync(dir, { recursive: true, force: true })
  }
}

const cpu = os.cpus()
const lines = [
  '# Memory per worker under the hello load',
  '',
  `${new Date().toISOString().slice(0, 10)} · ${cpu.length} vCPU ${cpu[0]?.model ?? ''}, Node ${process.version} · \`node bench/memory.mjs\` · load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} at the end · 1 worker each, wrk -t2 -c50 for ${seconds} s · RSS under load = the highest read during a first run, before any snapshot · live heap = V8 heap snapshot total after a full GC, before a second run, in its middle (50 connections open) and after it`,
  '',
  '| subject | RSS warm (MiB) | RSS under load (MiB) | live heap before (MiB) | during (MiB) | after (MiB) | requests | held during the run, by constructor | left after it |',
  '|---|---:|---:|---:|---:|---:|---:|---|---|',
  ...results.map((r) => `| ${r.subject} | ${r.rssWarmMiB.toFixed(0)} | ${r.rssLoadedMiB.toFixed(0)} | ${r.heapBeforeMiB.toFixed(1)} | ${r.heapMidMiB.toFixed(1)} | ${r.heapAfterMiB.toFixed(1)} | ${r.requests} | ${r.held.slice(0, 3).map((g) => `${g.name} ${g.count >= 0 ? '+' : ''}${g.count} (${(g.bytes / 1024).toFixed(0)} KiB)`).join(', ')} | ${r.grew.slice(0, 3).map((g) => `${g.name} ${g.count >= 0 ? '+' : ''}${g.count} (${(g.bytes / 1024).toFixed(0)} KiB)`).join(', ')} |`),
  '',
]
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results/memory.md'), lines.join('\n'))
writeFileSync(join(root, 'bench/results/memory.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, seconds, results }, null, 2) + '\n')
console.log('\n' + lines.join('\n'))
