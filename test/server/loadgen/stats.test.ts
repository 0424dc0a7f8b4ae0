import { describe, expect, it } from 'vitest'
import { LoadStats, MAX_CAUSES, OTHER_CAUSES, describeCause } from '../../../dist/server/loadgen/stats.js'

const OPTIONS = { url: 'http://127.0.0.1:8000/', connections: 10, keepAlive: true, duration: 10 }

/** A LoadStats on a clock the test moves, so figures do not depend on the machine's speed. */
function statsAt(t0 = 1_000_000): { stats: LoadStats; clock: { now: number } } {
  const clock = { now: t0 }
  return { stats: new LoadStats(1, OPTIONS, () => clock.now), clock }
}

/** Arrays held by the object (one level deep), by length: what a tick could iterate. */
function retainedArrayLengths(o: object): number[] {
  return Object.values(o)
    .filter(Array.isArray)
    .map((a: unknown[]) => a.length)
}

describe('load statistics', () => {
  it('a progress tick does the same work and holds the same memory at a million samples as at a thousand', () => {
    const small = statsAt()
    const large = statsAt()
    for (let i = 0; i < 1_000; i++) small.stats.response(200, (i % 100) + 0.5)
    for (let i = 0; i < 1_000_000; i++) large.stats.response(200, (i % 100) + 0.5)
    small.clock.now += 900
    large.clock.now += 900
    const p = large.stats.progress(true)
    small.stats.progress(true)
    expect(p.requests).toBe(1_000_000)
    expect(p.histogram.reduce((a, b) => a + b.count, 0)).toBe(1_000_000)
    // The old code sorted a 1M-element list on every tick: the work was the sample count.
    expect(large.stats.tickWork).toBe(small.stats.tickWork)
    expect(large.stats.tickWork).toBeLessThan(100)
    expect(large.stats.histogramBytes).toBe(small.stats.histogramBytes)
    expect(large.stats.histogramBytes).toBeLessThan(256 * 1024)
    expect(Math.max(...retainedArrayLengths(large.stats))).toBeLessThan(100)
  })

  it('percentiles are within 0.1% of the exact values', () => {
    const { stats, clock } = statsAt()
    // 1.000 .. 100.000 ms in 1 µs steps would be 99k samples; every 7th keeps it quick
    const values: number[] = []
    for (let us = 1000; us <= 100_000; us += 7) values.push(us / 1000)
    for (const v of values) stats.response(200, v)
    clock.now += 500
    const l = stats.progress(true).latency
    const exact = (p: number) => values[Math.ceil((p / 100) * values.length) - 1]
    for (const [got, want] of [
      [l.p50, exact(50)],
      [l.p90, exact(90)],
      [l.p99, exact(99)],
    ]) {
      expect(Math.abs(got - want) / want).toBeLessThan(0.001)
    }
    expect(l.max).toBeCloseTo(values[values.length - 1], 1)
    expect(l.p99).toBeLessThanOrEqual(l.max)
  })

  it('each second keeps its own p50 and p99 once it is over', () => {
    const { stats, clock } = statsAt()
    for (let i = 0; i < 100; i++) stats.response(200, 2)
    clock.now += 1000
    for (let i = 0; i < 100; i++) stats.response(200, 50)
    clock.now += 1000
    stats.response(200, 7)
    clock.now += 200
    const seconds = stats.progress(true).perSecond
    expect(seconds.map((s) => s.requests)).toEqual([100, 100, 1])
    expect(seconds[0].p99).toBeCloseTo(2, 1)
    expect(seconds[1].p50).toBeCloseTo(50, 0)
    expect(seconds[2].p50).toBeCloseTo(7, 1)
  })

  it('achieved rate is responses per second since measuring started', () => {
    const { stats, clock } = statsAt()
    for (let i = 0; i < 300; i++) stats.response(200, 1)
    clock.now += 2000
    expect(stats.progress(true).achievedRate).toBe(150)
  })

  it('errors keep their cause, and at most a dozen distinct causes', () => {
    const { stats } = statsAt()
    stats.error('refused', describeCause({ code: 'ECONNREFUSED' }))
    stats.error('refused', describeCause({ code: 'ECONNREFUSED' }))
    for (let i = 0; i < 30; i++) stats.error('other', `E_ODD_${i}`)
    const causes = stats.progress(false).errorCauses!
    expect(Object.keys(causes)[0]).toMatch(/^ECONNREFUSED: connection refused/)
    expect(causes[Object.keys(causes)[0]]).toBe(2)
    expect(Object.keys(causes)).toHaveLength(MAX_CAUSES)
    expect(Object.values(causes).reduce((a, b) => a + b, 0)).toBe(32)
    expect(causes[OTHER_CAUSES]).toBeGreaterThan(0)
  })

  it('names the causes a reader can act on', () => {
    expect(describeCause({ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND nohost' })).toMatch(/host not found/)
    expect(describeCause({ code: 'HPE_INVALID_CONSTANT' })).toMatch(/not valid HTTP/)
    expect(describeCause({ message: 'request timed out' })).toMatch(/timeout/)
  })
})
