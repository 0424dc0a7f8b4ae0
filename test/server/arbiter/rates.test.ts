/**
 * The request rate and percentiles the arbiter reports (dashboard header, history charts,
 * `ctl status`, Little's law). Workers send a bounded sample of durations per heartbeat;
 * the rate must come from how many requests they completed, not from the sample's size.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RateWindow } from '../../../src/server/arbiter/rates.js'
import { DEMO, runCli, sleep, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'
import { countingLoad } from '../../helpers/load.js'

describe('request rate and latency percentiles', () => {
  afterAll(stopAll)

  it('count what the beats completed, and weight each beat\'s sample by it', () => {
    const w = new RateWindow()
    // a busy beat: 10 000 requests, sampled as 512 of 1 ms; a quiet beat: 20 requests of 400 ms
    w.add(10_000, Array(512).fill(1))
    w.add(20, Array(20).fill(400))
    const s = w.summary()
    expect(s.requestsPerSec).toBe(10_020)
    // 20 slow ones in 10 020 are 0.2%: neither the median nor the p99 is slow (unweighted,
    // 20 of 532 samples, 3.8%, would make the p99 400 ms)
    expect(s.p50Ms).toBe(1)
    expect(s.p99Ms).toBe(1)
    w.add(500, Array(100).fill(50))
    expect(w.summary().p99Ms).toBe(50)
  })

  it('a live server reports the rate its request counters show, above one sample\'s size', async () => {
    const sock = join(mkdtempSync(join(tmpdir(), 'paddock-rates-')), 'ctl.sock')
    const p = await startPaddock(['-b', '127.0.0.1:0', '-w', '1', '-k', 'async', '--control-socket', sock, DEMO], { bind: false })
    await waitForWorkers(p, 1)
    const load = countingLoad(p.port, '/', 32)
    try {
      await sleep(1500)
      const status = async () => {
        const r = await runCli(['ctl', '--socket', sock, 'status', '--json'])
        const s = JSON.parse(r.stdout) as { at: number; rates: { requestsPerSec: number }; workers: { requests: number }[] }
        // the snapshot's own time: a ctl process can take a second to start on a loaded machine
        return { at: s.at, requests: s.workers.reduce((a, x) => a + x.requests, 0), rate: s.rates.requestsPerSec }
      }
      const a = await status()
      await sleep(1000)
      const b = await status()
      const counted = ((b.requests - a.requests) * 1000) / (b.at - a.at)
      // the same thing measured two ways, over windows a little apart: wide bounds
      expect(counted).toBeGreaterThan(0)
      expect(b.rate).toBeGreaterThan(counted * 0.5)
      expect(b.rate).toBeLessThan(counted * 2)
      console.log(`reported ${b.rate} req/s, counted ${counted.toFixed(0)} req/s`)
    } finally {
      await load.stop()
    }
  })
})
