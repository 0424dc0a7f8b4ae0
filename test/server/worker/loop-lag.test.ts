import { afterEach, describe, expect, it } from 'vitest'
import { LoopLag } from '../../../dist/server/worker/stats.js'
import { DEMO, controlSocketPath, get, runCli, sleep, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'

afterEach(stopAll)

async function lags(sock: string): Promise<number[]> {
  const r = await runCli(['ctl', '--socket', sock, 'workers', '--json'])
  return (JSON.parse(r.stdout) as { loopLagMs: number; state: string }[]).filter((w) => w.state === 'ready').map((w) => w.loopLagMs)
}

describe('event-loop lag per worker', () => {
  it('a stall counts in the heartbeat that comes right after it, before the sampling timer has run, and only once', async () => {
    const lag = new LoopLag()
    await sleep(50)
    const t = Date.now()
    while (Date.now() - t < 200) {
      // a synchronous stall, as a blocking call in a handler
    }
    // the heartbeat's timer can run before the lag sampler's: the stall must not be lost
    expect(lag.take()).toBeGreaterThanOrEqual(180)
    await sleep(60)
    // nor counted again in the next beat (wide: a loaded machine delays timers a little)
    expect(lag.take()).toBeLessThan(100)
  })

  it('an idle worker reads about 0 (not the 10 ms sampling interval); a blocked one reads the block', async () => {
    const sock = controlSocketPath()
    const p = await startPaddock(['-b', '127.0.0.1:0', '-w', '1', '-k', 'async', '--control-socket', sock, DEMO], { bind: false })
    await waitForWorkers(p, 1)
    // The least of a few heartbeats: a loaded machine delays an idle loop's timers now and
    // then, but not in every beat; the sampling interval alone read 10 ms or more in each.
    let idle = Infinity
    for (let i = 0; i < 6; i++) {
      await sleep(400)
      const l = await lags(sock)
      expect(l).toHaveLength(1)
      idle = Math.min(idle, l[0]!)
    }
    expect(idle).toBeLessThan(8)

    await get(p.port, '/block?ms=400')
    let seen = 0
    const deadline = Date.now() + 5000
    while (seen < 300 && Date.now() < deadline) {
      seen = Math.max(seen, ...(await lags(sock)))
      await sleep(100)
    }
    expect(seen).toBeGreaterThanOrEqual(300)
  })
})
