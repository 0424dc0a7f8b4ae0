/**
 * The control plane against a real server under load: `paddock ctl watch` shows the numbers
 * moving, `ctl add` shows up in the next snapshot, and /metrics parses with per-worker
 * series for the real worker pids.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import net from 'node:net'
import { CLI, DEMO, ROOT, childPids, runCli, sleep, startPaddock, stopAll, waitForWorkers, type Paddock } from '../../helpers/proc.js'
import { countingLoad } from '../../helpers/load.js'
import { parseExposition } from '../../helpers/prometheus.js'

let p: Paddock
let sock: string
let metricsPort: number
let load: ReturnType<typeof countingLoad>

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

describe('control plane on a live server', () => {
  beforeAll(async () => {
    sock = join(mkdtempSync(join(tmpdir(), 'paddock-live-')), 'ctl.sock')
    metricsPort = await freePort()
    p = await startPaddock(['-b', '127.0.0.1:0', '-w', '2', '-k', 'async', '--control-socket', sock, '--metrics-bind', `127.0.0.1:${metricsPort}`, DEMO], { bind: false })
    await waitForWorkers(p, 2)
    load = countingLoad(p.port, '/io?ms=5', 8)
  })
  afterAll(async () => {
    await load?.stop()
    await stopAll()
  })

  it('ctl watch shows the request count moving', async () => {
    const watch = spawn(process.execPath, [CLI, 'ctl', '--socket', sock, 'watch'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    watch.stdout!.on('data', (d) => (out += d))
    // each screen starts with a clear; the total request count differs between screens.
    // Counted, not timed: a ctl process can take seconds to start on a loaded machine.
    const screensSoFar = () => out.split('\x1b[H\x1b[2J').filter(Boolean)
    for (let waited = 0; screensSoFar().length < 5 && waited < 30_000; waited += 100) await sleep(100)
    watch.kill('SIGKILL')
    const screens = screensSoFar()
    expect(screens.length).toBeGreaterThanOrEqual(4)
    const totals = screens.map((s) => s.match(/requests\D*(\d+)/)?.[1]).filter(Boolean)
    expect(new Set(totals).size).toBeGreaterThan(1)
  })

  it('ctl add shows a third worker in the next snapshot', async () => {
    expect((await runCli(['ctl', '--socket', sock, 'add'])).code).toBe(0)
    let n = 0
    for (let i = 0; i < 40 && n !== 3; i++) {
      await sleep(100)
      const r = await runCli(['ctl', '--socket', sock, 'workers', '--json'])
      n = (JSON.parse(r.stdout) as { state: string }[]).filter((w) => w.state === 'ready').length
    }
    expect(n).toBe(3)
    expect(childPids(p.pid)).toHaveLength(3)
  })

  it('/metrics parses, with a series per real worker pid', async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
    const { samples } = parseExposition(text)
    const pids = new Set(childPids(p.pid).map(String))
    const perWorker = samples.filter((s) => s.name === 'paddock_requests_total' && s.labels.pid)
    expect(perWorker.length).toBeGreaterThanOrEqual(2)
    for (const s of perWorker) expect(pids.has(s.labels.pid!)).toBe(true)
    expect(perWorker.reduce((a, s) => a + s.value, 0)).toBeGreaterThan(0)
    // each worker's latency histogram counts the same requests (both come from one heartbeat),
    // and the load's /io?ms=5 requests took about 5 ms: nearly all within 25 ms, and a sum
    // of at least 5 ms each
    for (const s of perWorker) {
      const of = (name: string, le?: string) => samples.find((x) => x.name === name && x.labels.pid === s.labels.pid && x.labels.le === le)?.value
      const count = of('paddock_request_duration_seconds_count')!
      expect(count).toBe(s.value)
      expect(of('paddock_request_duration_seconds_bucket', '0.025')!).toBeGreaterThanOrEqual(count * 0.9)
      expect(of('paddock_request_duration_seconds_sum')!).toBeGreaterThanOrEqual(count * 0.005 * 0.9)
    }
  })
})
