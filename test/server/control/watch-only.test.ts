import { afterEach, describe, expect, it } from 'vitest'
import { ControlServer } from '../../../src/server/control/control-server.js'
import { sleep } from '../../helpers/proc.js'
import { fakeArbiter } from './fake-arbiter.js'

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

/** A fake arbiter that counts how often the control server builds a snapshot and samples processes. */
function counted() {
  const arbiter = fakeArbiter()
  const calls = { snapshots: 0, samples: 0 }
  const snapshot = arbiter.snapshot
  const workerPids = arbiter.workerPids
  arbiter.snapshot = () => (calls.snapshots++, snapshot())
  arbiter.workerPids = () => (calls.samples++, workerPids())
  return { arbiter, calls }
}

describe('the control plane samples and builds snapshots only while someone watches', () => {
  it('nobody attached: no snapshot built and no process sampled; a client attached: snapshots at the set rate; detached: nothing again', async () => {
    const { arbiter, calls } = counted()
    const control = new ControlServer(arbiter, { rateHz: 20, sampleMs: 100 })
    cleanup.push(() => control.close())
    calls.snapshots = 0
    await sleep(500)
    expect(calls).toEqual({ snapshots: 0, samples: 0 })

    const frames: { type: string }[] = []
    const session = control.subscribe({ send: (f) => frames.push(f) })
    await session.receive({ type: 'hello', protocol: 1, client: 'test' })
    await sleep(500)
    // 20 Hz for half a second (wide bounds: a loaded machine delays timers)
    expect(frames.filter((f) => f.type === 'snapshot').length).toBeGreaterThanOrEqual(4)
    expect(calls.samples).toBeGreaterThanOrEqual(2)

    session.close()
    await sleep(100)
    const after = { ...calls }
    await sleep(500)
    expect(calls).toEqual(after)
  })

  it('a one-off reader (metrics scrape, ctl status) gets a freshly sampled snapshot while nobody watches', async () => {
    const { arbiter, calls } = counted()
    const control = new ControlServer(arbiter, { rateHz: 20, sampleMs: 100 })
    cleanup.push(() => control.close())
    const s = await control.sampledSnapshot()
    expect(calls.samples).toBe(1)
    // the fake's one worker is this process: its RSS comes from the sample
    expect(s.workers[0]!.rss).toBeGreaterThan(0)
    const status = await control.execute({ cmd: 'status' })
    expect(status.ok).toBe(true)
    await sleep(300)
    // nothing keeps sampling after the readers are answered
    expect(calls.samples).toBeLessThanOrEqual(2)
  })

  it('a hold (statsd) keeps the snapshots sampled until released', async () => {
    const { arbiter, calls } = counted()
    const control = new ControlServer(arbiter, { rateHz: 20, sampleMs: 100 })
    cleanup.push(() => control.close())
    const release = control.hold()
    await sleep(450)
    expect(calls.samples).toBeGreaterThanOrEqual(3)
    release()
    await sleep(150)
    const after = calls.samples
    await sleep(400)
    expect(calls.samples).toBe(after)
  })
})
