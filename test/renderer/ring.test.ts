import { describe, expect, it } from 'vitest'
import { Ring } from '../../src/renderer/src/lib/ring'

describe('Ring', () => {
  it('keeps the newest items in order and never grows past its capacity', () => {
    const r = new Ring<number>(3)
    for (let i = 1; i <= 5; i++) r.push(i)
    expect(r.length).toBe(3)
    expect(r.toArray()).toEqual([3, 4, 5])
    expect(r.toArray(2)).toEqual([4, 5])
    expect(r.last()).toBe(5)
    r.clear()
    expect(r.toArray()).toEqual([])
  })
})
