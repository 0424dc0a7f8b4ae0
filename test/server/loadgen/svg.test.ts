import { describe, expect, it } from 'vitest'
import { renderSvg } from '../../../src/server/loadgen/svg.js'
import { BOUNDS, loadRun } from '../../fixtures/load-run.js'

/** A 3 s run that ended 50 ms into a fourth second, as `paddock load --svg` gets it. */
const result = () =>
  loadRun({
    options: { url: 'http://127.0.0.1:8000/', connections: 4, keepAlive: true, duration: 3 },
    latency: { p50: 5, p90: 6, p99: 7, max: 6000, mean: 5 },
    perSecond: [0, 1, 2, 3].map((t) => ({ t, requests: t < 3 ? 300 : 5, p50: 5, p99: 7, errors: 0 })),
    histogram: BOUNDS.map((le) => ({ le, count: le === 5 ? 904 : le === -1 ? 1 : 0 })),
  })

describe('renderSvg', () => {
  it('labels the open last histogram bucket ">5k"', () => {
    const svg = renderSvg(result())
    expect(svg).toContain('>&gt;5k</text>')
    expect(svg).not.toMatch(/>(-1|&gt;|≤?-1)<\/text>/)
  })

  it('does not plot the final 50 ms as a whole second of almost no requests', () => {
    const svg = renderSvg(result())
    const rpsLine = svg.match(/<polyline[^>]*stroke="#36c"[^>]*points="([^"]*)"/)![1]!
    const ys = rpsLine.split(' ').map((p) => Number(p.split(',')[1]))
    expect(ys).toHaveLength(3)
    expect(new Set(ys).size).toBe(1)
    expect(svg).toContain('last 0.05 s not plotted (partial second)')
  })
})
