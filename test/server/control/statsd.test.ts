import dgram from 'node:dgram'
import { afterEach, describe, expect, it } from 'vitest'
import { ControlServer } from '../../../src/server/control/control-server.js'
import { startStatsd } from '../../../src/server/control/metrics.js'
import { fakeArbiter } from './fake-arbiter.js'

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

/** A statsd sender on a fake arbiter, and the lines a real UDP socket here receives from it. */
async function statsdTo(opts: { prefix?: string; tags?: string }) {
  const recv = dgram.createSocket('udp4')
  const lines: string[] = []
  recv.on('message', (m) => lines.push(...String(m).split('\n')))
  await new Promise<void>((r) => recv.bind(0, '127.0.0.1', () => r()))
  cleanup.push(() => recv.close())
  const arb = fakeArbiter()
  const control = new ControlServer(arb, { rateHz: 10 })
  cleanup.push(() => control.close())
  const s = startStatsd(control, { host: `127.0.0.1:${recv.address().port}`, ...opts })
  cleanup.push(() => s.close())
  return { arb, lines }
}

describe('statsd', () => {
  it("sends Gunicorn's names with the prefix and dogstatsd tags", async () => {
    const { arb, lines } = await statsdTo({ prefix: 'app', tags: 'env:test' })
    arb.emit({ type: 'spans', at: Date.now(), dropped: 0, spans: [{ pid: 1, generation: 1, thread: 0, method: 'GET', path: '/', status: 404, start: 0, durationMs: 12.4 }] })
    arb.emit({ type: 'log', at: Date.now(), stream: 'error', level: 'error', pid: 1, message: 'x' })
    const deadline = Date.now() + 3000
    while (!lines.some((l) => l.startsWith('app.workers:')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(lines).toContain('app.requests:1|c|#env:test')
    expect(lines).toContain('app.request.duration:12|ms|#env:test')
    expect(lines).toContain('app.request.status.404:1|c|#env:test')
    expect(lines).toContain('app.log.error:1|c|#env:test')
    expect(lines).toContain('app.workers:1|g|#env:test')
    expect(lines.some((l) => /^app\.backlog:\d+\|g/.test(l))).toBe(true)
  })

  it('counts every request of a busy heartbeat, and sends its sampled spans with their sample rate', async () => {
    const { arb, lines } = await statsdTo({})
    // 50 spans kept of 10 000 requests in one beat
    const spans = Array.from({ length: 50 }, () => ({ pid: 1, generation: 1, thread: 0, method: 'GET', path: '/', status: 200, start: 0, durationMs: 3 }))
    arb.emit({ type: 'spans', at: Date.now(), dropped: 9950, spans })
    const deadline = Date.now() + 3000
    while (lines.filter((l) => l.startsWith('request.status.200')).length < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(lines).toContain('requests:10000|c')
    expect(lines.filter((l) => l === 'request.duration:3|ms|@0.0050')).toHaveLength(50)
    expect(lines.filter((l) => l === 'request.status.200:1|c|@0.0050')).toHaveLength(50)
  })
})
