/**
 * A worker's heartbeat samples what it completed: durations (for the percentiles) and spans
 * (for the timeline) must be uniform over the whole beat, not its first requests.
 */
import { describe, expect, it } from 'vitest'
import { WorkerCounters } from '../../../dist/server/accounting/counters.js'

describe('heartbeat samples', () => {
  it('keep a uniform sample of a busy beat, and count every request', () => {
    const c = new WorkerCounters(1, 1)
    const t0 = Date.now()
    // 10 000 requests in one beat: the first half fast, the second half started later
    for (let i = 0; i < 10_000; i++) {
      const ref = { method: 'GET', url: i < 5000 ? '/early' : '/late', startedAt: t0 - (i < 5000 ? 0 : 100), acceptedAt: undefined, slot: -1 }
      c.start(ref)
      c.finish(ref, 200)
    }
    const beat = c.beat()
    expect(beat.stats.completed).toBe(10_000)
    expect(beat.stats.requests).toBe(10_000)
    expect(beat.stats.durations).toHaveLength(512)
    expect(beat.spans).toHaveLength(50)
    expect(beat.droppedSpans).toBe(9950)
    // keeping the first ones would give only /early and only ~0 ms durations
    const late = beat.spans.filter((s) => s.path === '/late').length
    expect(late).toBeGreaterThan(5)
    expect(late).toBeLessThan(45)
    const slow = beat.stats.durations.filter((d) => d >= 100).length
    expect(slow).toBeGreaterThan(512 * 0.3)
    expect(slow).toBeLessThan(512 * 0.7)
    // and the next beat starts afresh
    expect(c.beat().stats.completed).toBe(0)
  })
})
