/**
 * The crash-loop back-off as a policy: failures in a row in, the wait before the next spawn
 * (or `errored`) out. Imports src/ and forks nothing.
 */
import { describe, expect, it } from 'vitest'
import { BOOT_BACKOFF, BootBackoff, STABLE_AFTER_MS, backoffPolicy, crashLoopExit, nextBootDelay } from '../../../src/server/arbiter/backoff.js'

describe('nextBootDelay', () => {
  it('doubles the wait with each failure in a row', () => {
    expect([1, 2, 3, 4].map((n) => nextBootDelay(n))).toEqual([200, 400, 800, 1600])
  })

  it('is errored after 5 failures in a row', () => {
    expect(BOOT_BACKOFF.maxFailures).toBe(5)
    expect(nextBootDelay(4)).toBe(1600)
    expect(nextBootDelay(5)).toBe('errored')
    expect(nextBootDelay(6)).toBe('errored')
  })

  it('never waits more than 10 s', () => {
    const patient = { ...BOOT_BACKOFF, maxFailures: 20 }
    expect(nextBootDelay(6, patient)).toBe(6400)
    expect(nextBootDelay(7, patient)).toBe(10_000)
    expect(nextBootDelay(19, patient)).toBe(10_000)
  })
})

describe('backoffPolicy', () => {
  it('reads the settings in seconds, and keeps the defaults for what is not set', () => {
    expect(backoffPolicy({ restart_backoff: 0.25, restart_backoff_max: 2, crash_loop_limit: 3 })).toEqual({ baseMs: 250, capMs: 2000, maxFailures: 3 })
    expect(backoffPolicy({})).toEqual(BOOT_BACKOFF)
    const p = backoffPolicy({ restart_backoff: 0.25, restart_backoff_max: 2, crash_loop_limit: 3 })
    expect([1, 2, 3].map((n) => nextBootDelay(n, p))).toEqual([500, 1000, 'errored'])
  })
})

describe('BootBackoff', () => {
  it('holds spawning until the wait is over', () => {
    const b = new BootBackoff()
    expect(b.maySpawn(0)).toBe(true)
    const delay = nextBootDelay(b.failed()) as number
    b.waitUntil(1000 + delay)
    expect(b.maySpawn(1000 + delay - 1)).toBe(false)
    expect(b.maySpawn(1000 + delay)).toBe(true)
  })

  it('starts counting again after a worker stayed up', () => {
    const b = new BootBackoff()
    for (let i = 0; i < 4; i++) b.failed()
    expect(b.failures).toBe(4)
    b.succeeded()
    expect(b.failures).toBe(0)
    expect(nextBootDelay(b.failed())).toBe(200)
  })

  it('forgets the failures and the wait on a reload', () => {
    const b = new BootBackoff()
    b.failed()
    b.waitUntil(5000)
    b.reset()
    expect(b.failures).toBe(0)
    expect(b.maySpawn(0)).toBe(true)
  })
})

describe('crashLoopExit', () => {
  const now = 50_000

  it('counts an unexpected exit before ready, unless the worker was draining', () => {
    expect(crashLoopExit({ readyAt: null, expected: false, wasDraining: false }, now)).toEqual({})
    expect(crashLoopExit({ readyAt: null, expected: false, wasDraining: true }, now)).toBeNull()
    expect(crashLoopExit({ readyAt: null, expected: true, wasDraining: false }, now)).toBeNull()
  })

  it('counts a death soon after ready, with how long the worker was up, and not a later one', () => {
    expect(crashLoopExit({ readyAt: now - 500, expected: false, wasDraining: false }, now)).toEqual({ upMs: 500 })
    expect(crashLoopExit({ readyAt: now - STABLE_AFTER_MS, expected: false, wasDraining: false }, now)).toBeNull()
    expect(crashLoopExit({ readyAt: now - 500, expected: true, wasDraining: false }, now)).toBeNull()
  })
})
