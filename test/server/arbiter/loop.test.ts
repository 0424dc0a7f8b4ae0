import { describe, expect, it } from 'vitest'
import { IDLE_TICK_MS, TICK_MS, nextTickMs } from '../../../src/server/arbiter/loop.js'
import { MEMORY_SAMPLE_MS } from '../../../src/server/arbiter/memory.js'

const idle = (lastHeartbeat: number | null) => ({ state: 'ready' as const, abortedAt: null, retiring: false, stats: null, lastHeartbeat })

describe("the arbiter loop's pace", () => {
  it('runs at 250 ms while anything moves', () => {
    expect(nextTickMs({ busy: true, workers: [idle(0)], timeoutMs: 30_000, now: 0 })).toBe(TICK_MS)
    expect(nextTickMs({ busy: false, workers: [{ ...idle(0), state: 'booting' }], timeoutMs: 30_000, now: 0 })).toBe(TICK_MS)
    const busyWorker = { ...idle(0), stats: { connections: 1, inFlight: 0 } as never }
    expect(nextTickMs({ busy: false, workers: [busyWorker], timeoutMs: 30_000, now: 0 })).toBe(TICK_MS)
  })

  it('waits at most IDLE_TICK_MS while every worker idles', () => {
    expect(nextTickMs({ busy: false, workers: [idle(1000), idle(1000)], timeoutMs: 30_000, now: 1000 })).toBe(IDLE_TICK_MS)
  })

  it('looks again when the first idle worker would pass --timeout without a heartbeat', () => {
    // timeout 2 s, last beat 1.5 s ago: due in about 0.5 s
    expect(nextTickMs({ busy: false, workers: [idle(8500), idle(9900)], timeoutMs: 2000, now: 10_000 })).toBe(501)
    // never faster than the busy pace
    expect(nextTickMs({ busy: false, workers: [idle(7000)], timeoutMs: 2000, now: 10_000 })).toBe(TICK_MS)
  })

  it('samples memory at least once a second while --max-worker-memory is set', () => {
    const workers = [idle(1000), idle(1000)]
    expect(nextTickMs({ busy: false, workers, timeoutMs: 30_000, now: 1000, memoryWatched: true })).toBe(MEMORY_SAMPLE_MS)
    expect(nextTickMs({ busy: true, workers, timeoutMs: 30_000, now: 1000, memoryWatched: true })).toBe(TICK_MS)
    expect(nextTickMs({ busy: false, workers, timeoutMs: 30_000, now: 1000, memoryWatched: false })).toBe(IDLE_TICK_MS)
  })
})
