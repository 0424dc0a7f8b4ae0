/**
 * The crash-loop back-off as a policy: failures in a row in, the wait before the next spawn
 * (or `errored`) out. Imports src/ and forks nothing.
 */
import { describe, expect, it } from 'vitest'
import { BOOT_BACKOFF, BootBackoff, STABLE_AFTER_MS, backoffPolicy, bootFailureVerdict, crashLoopExit, nextBootDelay, type BootFailure } from '../../../src/server/arbiter/backoff.js'

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

describe('bootFailureVerdict', () => {
  const failure = (f: Partial<BootFailure>): BootFailure => ({
    failures: 1, ofReloadingGeneration: false, everReady: true, exitCode: 1, startPending: false, reason: 'exited with code 1', policy: BOOT_BACKOFF, ...f,
  })

  it("rolls a reload back when the reload's own generation fails, whatever the count", () => {
    expect(bootFailureVerdict(failure({ ofReloadingGeneration: true, failures: 9 }))).toEqual({ do: 'roll back' })
  })

  it('fails the start at once when the first generation cannot load the app (exit 4) or switch user (exit 3)', () => {
    const first = { everReady: false, startPending: true, reason: 'boot failed: no such module' }
    expect(bootFailureVerdict(failure({ ...first, exitCode: 4 }))).toEqual({ do: 'fail start', message: 'boot failed: no such module' })
    expect(bootFailureVerdict(failure({ ...first, exitCode: 3 }))).toEqual({ do: 'fail start', message: 'boot failed: no such module' })
    // another exit code, or a server that has served before, waits and tries again
    expect(bootFailureVerdict(failure({ ...first, exitCode: 1 })).do).toBe('wait')
    expect(bootFailureVerdict(failure({ ...first, exitCode: 4, everReady: true })).do).toBe('wait')
  })

  it('waits, doubling, and says why; a death soon after ready is named as a crash', () => {
    expect(bootFailureVerdict(failure({ failures: 2 }))).toEqual({ do: 'wait', ms: 400, message: 'Worker boot failure 2/5 in a row; next spawn in 400 ms' })
    expect(bootFailureVerdict(failure({ failures: 1, upMs: 700 }))).toEqual({ do: 'wait', ms: 200, message: 'Worker died 0.7 s after it was ready, counted as a crash 1/5 in a row; next spawn in 200 ms' })
  })

  it('is errored at the policy\'s limit, with the count and the last reason', () => {
    expect(bootFailureVerdict(failure({ failures: 5, reason: 'killed by SIGSEGV' }))).toEqual({
      do: 'errored',
      message: 'workers keep failing (5 times in a row), no more respawns until a reload: killed by SIGSEGV',
    })
    expect(bootFailureVerdict(failure({ failures: 3, policy: { ...BOOT_BACKOFF, maxFailures: 3 } })).do).toBe('errored')
  })
})
