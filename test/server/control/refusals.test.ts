import { describe, expect, it } from 'vitest'
import { RefusalLimiter } from '../../../src/server/control/refusals.js'

describe('RefusalLimiter', () => {
  it('admits an address until it was refused maxRefused times in its window, then drops it until the window ends', () => {
    const l = new RefusalLimiter({ maxRefused: 3, windowMs: 60_000 })
    const t0 = 1_000_000
    expect(l.refuse('10.0.0.1', t0)).toEqual({ log: true, blockedNow: false })
    expect(l.refuse('10.0.0.1', t0 + 1)).toEqual({ log: true, blockedNow: false })
    expect(l.admits('10.0.0.1', t0 + 2)).toBe(true)
    expect(l.refuse('10.0.0.1', t0 + 3)).toEqual({ log: true, blockedNow: true })
    expect(l.admits('10.0.0.1', t0 + 4)).toBe(false)
    // another address is not affected
    expect(l.admits('10.0.0.2', t0 + 4)).toBe(true)
    // refusals past the cap are not logged one by one
    expect(l.refuse('10.0.0.1', t0 + 5)).toEqual({ log: false, blockedNow: false })
    expect(l.blockedForSec('10.0.0.1', t0 + 5)).toBe(60)
    expect(l.admits('10.0.0.1', t0 + 60_000)).toBe(true)
  })

  it('forgets the oldest addresses beyond maxAddresses', () => {
    const l = new RefusalLimiter({ maxRefused: 1, windowMs: 60_000, maxAddresses: 2 })
    l.refuse('a', 0)
    l.refuse('b', 1)
    l.refuse('c', 2)
    expect(l.admits('a', 3)).toBe(true)
    expect(l.admits('c', 3)).toBe(false)
  })
})
