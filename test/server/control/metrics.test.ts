import { spawn, type ChildProcess } from 'node:child_process'
import http from 'node:http'
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ControlServer } from '../../../src/server/control/control-server.js'
import { prometheusText, startMetricsServer } from '../../../src/server/control/metrics.js'
import { parseProcNetTcp, readListenQueues } from '../../../src/server/control/proc-net.js'
import { fakeArbiter } from './fake-arbiter.js'
import { parseExposition } from '../../helpers/prometheus.js'

const procs: ChildProcess[] = []
const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
  for (const p of procs.splice(0)) if (p.pid && p.exitCode === null) process.kill(p.pid, 'SIGKILL')
})


function fetchText(url: string): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode!, body, type: String(res.headers['content-type']) }))
    }).on('error', reject)
  })
}

describe('Prometheus metrics', () => {
  it('serves valid exposition text with per-worker samples', async () => {
    const control = new ControlServer(fakeArbiter(), { rateHz: 10, sampleMs: 100 })
    cleanup.push(() => control.close())
    const m = await startMetricsServer(control, '127.0.0.1:0')
    cleanup.push(() => m.close())
    // wait for the first /proc sample to reach a snapshot
    const deadline = Date.now() + 5000
    while (control.snapshot().workers[0]!.rss === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    const res = await fetchText(m.url)
    expect(res.status).toBe(200)
    expect(res.type).toMatch(/text\/plain; version=0\.0\.4/)
    const { types, samples } = parseExposition(res.body)
    expect(types.get('paddock_requests_total')).toBe('counter')
    const req = samples.find((s) => s.name === 'paddock_requests_total')!
    expect(req.labels).toEqual({ pid: String(process.pid), generation: '1' })
    expect(req.value).toBe(3)
    expect(samples.find((s) => s.name === 'paddock_worker_rss_bytes')!.value).toBeGreaterThan(0)
    expect((await fetchText(m.url.replace('/metrics', '/other'))).status).toBe(404)
  })

  it('renders each worker\'s latency histogram in seconds, cumulative, with _sum and _count', () => {
    const s = fakeArbiter().snapshot()
    // 3 requests within 5 ms, 1 of 30 ms, 1 of 12 s
    s.workers[0]!.latency = { counts: [3, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], sumMs: 12_036 }
    const { types, samples } = parseExposition(prometheusText(s))
    expect(types.get('paddock_request_duration_seconds')).toBe('histogram')
    const bucket = (le: string) => samples.find((x) => x.name === 'paddock_request_duration_seconds_bucket' && x.labels.le === le)?.value
    expect(bucket('0.005')).toBe(3)
    expect(bucket('0.025')).toBe(3)
    expect(bucket('0.05')).toBe(4)
    expect(bucket('10')).toBe(4)
    expect(bucket('+Inf')).toBe(5)
    expect(samples.find((x) => x.name === 'paddock_request_duration_seconds_sum')!.value).toBeCloseTo(12.036)
    expect(samples.find((x) => x.name === 'paddock_request_duration_seconds_count')!.labels).toEqual({ pid: String(process.pid), generation: '1' })
  })

  it('escapes label values', () => {
    const s = fakeArbiter().snapshot()
    s.listeners[0]!.bind = 'unix:/tmp/a"b\\c'
    s.listeners[0]!.queueDepth = 0
    const { samples } = parseExposition(prometheusText(s))
    expect(samples.find((x) => x.name === 'paddock_listen_queue_depth')!.labels.listener).toBe('unix:/tmp/a\\"b\\\\c')
  })
})

describe('listen queue depth from /proc/net/tcp', () => {
  it('parses LISTEN rows only', () => {
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1F40 00000000:0000 0A 00000000:00000003 00:00000000 00000000  1000        0 1 1',
      '   1: 0100007F:1F40 0100007F:C350 01 00000000:00000010 00:00000000 00000000  1000        0 2 1',
    ].join('\n')
    expect(parseProcNetTcp(text)).toEqual([{ port: 8000, queue: 3 }])
  })

  it('counts connections waiting on a real listener that does not accept', async () => {
    // The child listens, reports its port, then blocks its event loop: the kernel completes
    // handshakes into the accept queue but nobody accepts them.
    const child = spawn(process.execPath, [
      '-e',
      `const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port)+'\\n');setTimeout(()=>{const t=Date.now();while(Date.now()-t<20000);},50)})`,
    ])
    procs.push(child)
    const port = await new Promise<number>((r) => child.stdout!.once('data', (d) => r(Number(String(d).trim()))))
    await new Promise((r) => setTimeout(r, 200))
    const socks: net.Socket[] = []
    for (let i = 0; i < 3; i++) {
      const s = net.connect(port, '127.0.0.1')
      s.on('error', () => {})
      socks.push(s)
      await new Promise((r) => s.once('connect', r))
    }
    cleanup.push(() => socks.forEach((s) => s.destroy()))
    const q = await readListenQueues()
    expect(q.get(port)).toBe(3)
  })
})
