import os from 'node:os'
import { describe, expect, it } from 'vitest'
import { sampleSystem } from '../../../src/server/control/sampler.js'

describe('system sampling', () => {
  it("reports the machine's CPU busy share since the previous sample, and its memory", async () => {
    await sampleSystem()
    // keep one core busy for a while: the share of all cores must show it
    const end = Date.now() + 300
    while (Date.now() < end) Math.sqrt(Math.random())
    const s = await sampleSystem()
    expect(s.cpu).toBeGreaterThan(100 / os.availableParallelism() / 4)
    expect(s.cpu).toBeLessThanOrEqual(100)
    expect(s.memTotal).toBe(os.totalmem())
    expect(s.memUsed).toBeGreaterThan(0)
    expect(s.memUsed).toBeLessThan(s.memTotal)
    expect(s.cores).toBe(os.availableParallelism())
  })
})
