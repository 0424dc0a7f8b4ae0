import { existsSync } from 'node:fs'
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { LoopLag } from '../../../dist/server/accounting/loop-lag.js'
import { encodeFrame, FrameDecoder } from '../../../dist/server/control/framing.js'
import { PROTOCOL_VERSION, type ArbiterSnapshot } from '../../../dist/shared/protocol.js'
import { DEMO, controlSocketPath, get, sleep, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'

const sockets: net.Socket[] = []
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  await stopAll()
})

/** Every snapshot the control socket pushes (4 Hz), as the ready workers' loop lag: none is missed between polls. */
function watchLag(sock: string): { seen: { at: number; lags: number[] }[] } {
  const out = { seen: [] as { at: number; lags: number[] }[] }
  const s = net.connect(sock, () => s.write(encodeFrame({ type: 'hello', protocol: PROTOCOL_VERSION, client: 'loop-lag-test' })))
  sockets.push(s)
  const dec = new FrameDecoder()
  s.on('data', (c) => {
    for (const f of dec.push(c) as { type: string; snapshot?: ArbiterSnapshot }[]) {
      if ((f.type === 'snapshot' || f.type === 'welcome') && f.snapshot) {
        out.seen.push({ at: Date.now(), lags: f.snapshot.workers.filter((w) => w.state === 'ready').map((w) => w.loopLagMs) })
      }
    }
  })
  s.on('error', () => {})
  return out
}

describe('event-loop lag per worker', () => {
  it('a stall counts in the heartbeat that comes right after it, before the sampling timer has run, and shows for a second', async () => {
    const lag = new LoopLag()
    await sleep(50)
    const t = Date.now()
    while (Date.now() - t < 200) {
      // a synchronous stall, as a blocking call in a handler
    }
    // the heartbeat's timer can run before the lag sampler's: the stall must not be lost
    expect(lag.take()).toBeGreaterThanOrEqual(180)
    // the beats of the next second still show it, so a 4 Hz dashboard or a poll does not miss it
    await sleep(60)
    expect(lag.take()).toBeGreaterThanOrEqual(180)
    // then it is gone (wide: a loaded machine delays timers a little)
    await sleep(1100)
    expect(lag.take()).toBeLessThan(100)
  })

  it('the 10 ms sampler sleeps once a heartbeat finds the loop idle, and a request wakes it before its handler runs', async () => {
    const lag = new LoopLag()
    expect(lag.sampling).toBe(true)
    await sleep(300)
    lag.take()
    // an idle loop: the next take stops the sampler (no request running)
    await sleep(300)
    lag.take()
    expect(lag.sampling).toBe(false)
    // a request running keeps it on even while the loop waits for I/O
    lag.wake()
    await sleep(300)
    lag.take(true)
    expect(lag.sampling).toBe(true)
    // the stall of a handler that blocks after wake() is measured in full
    const t = Date.now()
    while (Date.now() - t < 200) {
      // blocked
    }
    await sleep(30)
    expect(lag.take(true)).toBeGreaterThanOrEqual(180)
  })

  it('while the sampler sleeps, a late heartbeat counts, and a loop that works without a request wakes the sampler', async () => {
    const lag = new LoopLag()
    await sleep(300)
    lag.take()
    await sleep(300)
    lag.take()
    expect(lag.sampling).toBe(false)
    lag.noteLate(350)
    expect(lag.take()).toBeGreaterThanOrEqual(350)
    await sleep(1100)
    expect(lag.take()).toBe(0)
    // 120 ms of work with no request (an app's own timer, say): sampled from now on
    const t = Date.now()
    while (Date.now() - t < 120) {
      // working
    }
    lag.take()
    expect(lag.sampling).toBe(true)
  })

  it('an idle worker reads about 0 (not the 10 ms sampling interval); a blocked one reads the block', async () => {
    const sock = controlSocketPath()
    const p = await startPaddock(['-b', '127.0.0.1:0', '-w', '1', '-k', 'async', '--control-socket', sock, DEMO], { bind: false })
    await waitForWorkers(p, 1)
    // the control plane starts after the workers
    for (const deadline = Date.now() + 10_000; !existsSync(sock) && Date.now() < deadline; ) await sleep(50)
    const w = watchLag(sock)
    // The least over a few seconds of snapshots: a loaded machine delays an idle loop's timers
    // now and then, but not all the time; the sampling interval alone read 10 ms or more always.
    await sleep(3000)
    const idle = w.seen.filter((x) => x.lags.length === 1)
    expect(idle.length).toBeGreaterThan(3)
    expect(Math.min(...idle.map((x) => x.lags[0]!))).toBeLessThan(8)

    const before = Date.now()
    await get(p.port, '/block?ms=400')
    const deadline = Date.now() + 5000
    const worst = () => Math.max(0, ...w.seen.filter((x) => x.at >= before).flatMap((x) => x.lags))
    while (worst() < 300 && Date.now() < deadline) await sleep(50)
    expect(worst()).toBeGreaterThanOrEqual(300)
  })
})
