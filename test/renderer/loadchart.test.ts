import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { bucketLabels, plottedSeconds } from '../../src/shared/loadchart'
import LoadChart from '../../src/renderer/src/components/LoadChart.vue'
import { BOUNDS, loadRun } from '../fixtures/load-run'

const run = loadRun

/** y of each point of an SVG path "M x,y L x,y ..." */
const ys = (d: string) => [...d.matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1]))

describe('load chart figures', () => {
  it('labels the open last bucket of the histogram ">5k", not "-1"', () => {
    expect(bucketLabels(BOUNDS.map((le) => ({ le })))).toEqual(['≤1', '≤2', '≤5', '≤10', '≤20', '≤50', '≤100', '≤200', '≤500', '≤1k', '≤2k', '≤5k', '>5k'])
  })

  it('leaves out a last second that covers only a sliver of time, and says so', () => {
    const { points, note } = plottedSeconds(run())
    expect(points.map((p) => p.rps)).toEqual([300, 300, 300])
    expect(note).toBe('last 0.05 s not plotted (partial second)')
  })

  it('scales a longer last partial second by its real length', () => {
    const { points, note } = plottedSeconds(run({ elapsedSec: 3.5, perSecond: [...run().perSecond.slice(0, 3), { t: 3, requests: 150, p50: 50, p99: 70, errors: 0 }] }))
    expect(points.map((p) => p.rps)).toEqual([300, 300, 300, 300])
    expect(points[3]!.coveredSec).toBe(0.5)
    expect(note).toBe('last point: 0.50 s, scaled to req/s')
  })

  it('plots every second unchanged when the run ended on a whole second', () => {
    const { points, note } = plottedSeconds(run({ elapsedSec: 4 }))
    expect(points.map((p) => p.rps)).toEqual([300, 300, 300, 5])
    expect(note).toBeNull()
  })
})

describe('LoadChart', () => {
  it('shows ">5k" under the last histogram bar and no "-1" anywhere', () => {
    const w = mount(LoadChart, { props: { run: run() } })
    const labels = w.findAll('[data-testid=load-bucket-label]').map((l) => l.text())
    expect(labels.at(-1)).toBe('>5k')
    expect(labels).not.toContain('-1')
    expect(w.text()).not.toContain('-1')
  })

  it('does not drop the req/s line to the floor for the final partial second', () => {
    const w = mount(LoadChart, { props: { run: run() } })
    const line = w.find('[data-testid=load-rps-line]')
    expect(line.attributes('data-points')).toBe('3')
    const y = ys(line.attributes('d')!)
    // a steady 300 req/s is one flat line at the top of the plot
    expect(new Set(y).size).toBe(1)
    expect(w.find('[data-testid=load-chart-note]').text()).toContain('not plotted')
  })

  it('live progress: the current, partial second is scaled, not drawn as a dip', () => {
    const w = mount(LoadChart, { props: { run: run({ running: true, elapsedSec: 3.8, perSecond: [...run().perSecond.slice(0, 3), { t: 3, requests: 240, p50: 50, p99: 70, errors: 0 }] }) } })
    const y = ys(w.find('[data-testid=load-rps-line]').attributes('d')!)
    expect(y).toHaveLength(4)
    expect(Math.abs(y[3]! - y[0]!)).toBeLessThan(1)
  })
})

describe('LoadChart axes', () => {
  it('has two labelled y-axes, req/s on the left and ms on the right, each with its own ticks', () => {
    const w = mount(LoadChart, { props: { run: run() } })
    expect(w.get('[data-testid=load-rps-axis]').text()).toBe('req/s')
    expect(w.get('[data-testid=load-ms-axis]').text()).toBe('p99 ms')
    // 300 req/s and a p99 of 70 ms: each on its own nice scale
    expect(w.findAll('[data-testid=load-rps-tick]').map((t) => t.text())).toEqual(['0', '250', '500'])
    expect(w.findAll('[data-testid=load-ms-tick]').map((t) => t.text())).toEqual(['0', '50', '100'])
  })
})
