/** Data you can trust (issue 19): stale data and silent workers must not look live and healthy. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import type { Pinia } from 'pinia'
import { PROTOCOL_VERSION } from '../../src/shared/protocol'
import HeaderBar from '../../src/renderer/src/components/HeaderBar.vue'
import ActionBar from '../../src/renderer/src/components/ActionBar.vue'
import WorkerCard from '../../src/renderer/src/components/WorkerCard.vue'
import LineChart from '../../src/renderer/src/components/LineChart.vue'
import { STALE_AFTER_MS } from '../../src/renderer/src/stores/connection'
import { freshDashboard, memoryTransport, snapshot, worker } from './helpers'

let pinia: Pinia
let m: ReturnType<typeof memoryTransport>
beforeEach(() => {
  vi.useFakeTimers()
  ;({ pinia, m } = freshDashboard())
  m.push({ type: 'welcome', protocol: PROTOCOL_VERSION, snapshot: snapshot(), settings: [{ name: 'timeout', value: 10, default: 30, source: 'cli', apply: 'reload', type: 'int', description: '' }] })
})
afterEach(() => vi.useRealTimers())
const opts = () => ({ global: { plugins: [pinia] } })

describe('stale data', () => {
  it('when snapshots stop coming, the header says how old the data is, the state is no longer green, and actions are disabled', async () => {
    const header = mount(HeaderBar, opts())
    const bar = mount(ActionBar, opts())
    expect(header.find('[data-testid=hdr-state]').classes()).toContain('arb-running')
    expect(bar.get('[data-testid=btn-hup]').attributes('disabled')).toBeUndefined()
    await vi.advanceTimersByTimeAsync(STALE_AFTER_MS + 1500)
    expect(header.get('[data-testid=hdr-stale]').text()).toMatch(/no update for 3 s/)
    expect(header.find('[data-testid=hdr-state]').classes()).not.toContain('arb-running')
    for (const id of ['btn-hup', 'btn-ttin', 'btn-scale', 'btn-class', 'btn-stop', 'btn-quick']) {
      expect(bar.get(`[data-testid=${id}]`).attributes('disabled'), id).toBeDefined()
    }
    // a snapshot brings it back
    m.push({ type: 'snapshot', snapshot: snapshot() })
    await vi.advanceTimersByTimeAsync(10)
    expect(header.find('[data-testid=hdr-stale]').exists()).toBe(false)
    expect(bar.get('[data-testid=btn-hup]').attributes('disabled')).toBeUndefined()
  })

  it('after a disconnect the banner is not the only sign: the header says so and the actions are off', async () => {
    const header = mount(HeaderBar, opts())
    const bar = mount(ActionBar, opts())
    m.drop('socket closed')
    await vi.advanceTimersByTimeAsync(10)
    expect(header.get('[data-testid=hdr-stale]').text()).toMatch(/disconnected/)
    expect(bar.get('[data-testid=btn-ttin]').attributes('disabled')).toBeDefined()
  })
})

describe('a silent worker', () => {
  const card = (lastHeartbeat: number | null, now: number) =>
    mount(WorkerCard, { props: { now, current: true, worker: worker({ lastHeartbeat, readyAt: 100 }) }, ...opts() })

  it('says "silent for N s" within a couple of seconds, amber, then red as it nears --timeout', () => {
    const fresh = card(9_900, 10_000)
    expect(fresh.get('[data-testid=worker-state]').text()).toBe('ready')
    const stopped = card(8_000, 10_000)
    expect(stopped.get('[data-testid=worker-state]').text()).toBe('silent for 2 s')
    expect(stopped.get('[data-testid=worker-card]').classes()).toContain('silent-warn')
    // --timeout 10: red from 5 s of silence on
    const nearTimeout = card(3_000, 10_000)
    expect(nearTimeout.get('[data-testid=worker-state]').text()).toBe('silent for 7 s')
    expect(nearTimeout.get('[data-testid=worker-card]').classes()).toContain('silent-danger')
  })
})

describe('chart legends', () => {
  it('show the latest figure, "–" while idle, not the last one ever seen', () => {
    const w = mount(LineChart, { props: { title: 'latency', unit: 'ms', times: [1, 2, 3], series: [{ name: 'p50', color: '#fff', values: [4, 4, null] }] } })
    expect(w.get('[data-testid=legend-p50]').text()).toBe('p50 –')
  })
})

describe('charts read as charts', () => {
  it('have labelled axes with units, and a hover read-out of every series at the time under the pointer', async () => {
    const w = mount(LineChart, {
      props: { title: 'latency', unit: 'ms', yLabel: 'ms', times: [1000, 2000, 3000], series: [{ name: 'p99', color: '#f00', values: [2000, 50, 60] }] },
    })
    expect(w.get('[data-testid=y-axis-label]').text()).toBe('ms')
    expect(w.get('[data-testid=x-axis-label]').text()).toBe('time (s)')
    expect(w.findAll('[data-testid=y-tick]').map((t) => t.text())).toEqual(['0', '1000', '2000'])
    // the SVG is drawn at its shown size: no viewBox stretched to the panel (text would stretch with it)
    expect(w.get('svg').attributes('preserveAspectRatio')).toBeUndefined()
    expect(w.get('[data-testid=legend-p99]').text()).toBe('p99 60 ms')
    await w.get('svg').trigger('mousemove', { clientX: 0 })
    expect(w.get('[data-testid=legend-p99]').text()).toBe('p99 2000 ms')
    expect(w.find('[data-testid=chart-cursor]').exists()).toBe(true)
    await w.get('svg').trigger('mouseleave')
    expect(w.get('[data-testid=legend-p99]').text()).toBe('p99 60 ms')
  })
})

describe('exited workers', () => {
  it('stay listed for the minute the heading promises, after the engine drops them from its snapshot (10 s)', async () => {
    const { default: WorkersView } = await import('../../src/renderer/src/views/WorkersView.vue')
    const w = mount(WorkersView, opts())
    m.push({ type: 'event', event: { type: 'worker.exited', at: 10_000, pid: 7, generation: 1, code: 1, signal: null, reason: 'crashed: boom', expected: false } })
    m.push({ type: 'snapshot', snapshot: snapshot({ at: 10_100, workers: [worker(), worker({ pid: 7, state: 'exited', reason: 'crashed: boom', lastHeartbeat: 9_900 })] }) })
    await vi.advanceTimersByTimeAsync(10)
    expect(w.get('[data-testid=exited-workers]').text()).toContain('crashed: boom')
    m.push({ type: 'snapshot', snapshot: snapshot({ at: 40_000, workers: [worker({ lastHeartbeat: 40_000 })] }) })
    await vi.advanceTimersByTimeAsync(10)
    expect(w.get('[data-testid=exited-workers]').text()).toContain('crashed: boom')
    m.push({ type: 'snapshot', snapshot: snapshot({ at: 75_000, workers: [worker({ lastHeartbeat: 75_000 })] }) })
    await vi.advanceTimersByTimeAsync(10)
    expect(w.find('[data-testid=exited-workers]').exists()).toBe(false)
  })
})

describe("Little's law counts the listen queue", () => {
  it('sync, 2 workers, /io?ms=100, 100 connections: L counts the 98 waiting in the kernel and W is what clients wait', async () => {
    const { useTimelineStore } = await import('../../src/renderer/src/stores/timeline')
    const tl = useTimelineStore()
    const at = 20_000
    tl.addSpans([0, 1, 2, 3].map((i) => ({ pid: 7 + (i % 2), generation: 1, thread: 0, method: 'GET', path: '/io', status: 200, start: at - 400 + i * 50, durationMs: 101 })), 0)
    const listeners = [{ bind: '127.0.0.1:0', kind: 'tcp' as const, host: '127.0.0.1', port: 8123, backlog: 2048, queueDepth: 98 }]
    m.push({ type: 'snapshot', snapshot: snapshot({ at, listeners, rates: { requestsPerSec: 20, p50Ms: 101, p99Ms: 102 }, workers: [worker({ pid: 7, inFlight: 1 }), worker({ pid: 8, inFlight: 1 })] }) })
    expect(tl.measuredL).toBe(100)
    // 101 ms of service + 98 / 20 per s = 4.9 s in the listen queue
    expect(tl.meanSec).toBeCloseTo(5.001, 2)
    expect(tl.littleL).toBeCloseTo(100, 0)
    // while the load generator runs, W is the latency its clients measured
    const load = { id: 1, options: { url: '/io?ms=100', connections: 100, duration: 10, keepAlive: true }, startedAt: 0, progress: 0.5, elapsedSec: 5, remainingSec: 5, requests: 100, requestsPerSec: 20, latency: { p50: 4300, p90: 4800, p99: 5000, max: 5100, mean: 4400 }, errors: { refused: 0, reset: 0, timeout: 0, non2xx: 0, other: 0 }, perSecond: [], histogram: [], running: true }
    m.push({ type: 'snapshot', snapshot: snapshot({ at: at + 250, listeners, load, rates: { requestsPerSec: 20, p50Ms: 101, p99Ms: 102 }, workers: [worker({ pid: 7, inFlight: 1 }), worker({ pid: 8, inFlight: 1 })] }) })
    expect(tl.wSource).toBe('load generator')
    expect(tl.meanSec).toBeCloseTo(4.4)
  })
})

describe("Little's law under CPU-bound requests", () => {
  it('counts the requests in service from the spans when every heartbeat falls between two requests', async () => {
    const { useTimelineStore } = await import('../../src/renderer/src/stores/timeline')
    const tl = useTimelineStore()
    const at = 50_000
    // 2 workers, each busy back to back with 20 ms requests for the last 5 s
    const spans = [7, 8].flatMap((pid) => Array.from({ length: 250 }, (_, i) => ({ pid, generation: 1, thread: 0, method: 'GET', path: '/cpu', status: 200, start: at - 5000 + i * 20, durationMs: 20 })))
    tl.addSpans(spans, 0)
    const listeners = [{ bind: '127.0.0.1:0', kind: 'tcp' as const, host: '127.0.0.1', port: 8123, backlog: 2048, queueDepth: 0 }]
    m.push({ type: 'snapshot', snapshot: snapshot({ at, listeners, rates: { requestsPerSec: 100, p50Ms: 20, p99Ms: 21 }, workers: [worker({ pid: 7, inFlight: 0 }), worker({ pid: 8, inFlight: 0 })] }) })
    expect(tl.measuredL).toBeCloseTo(2, 1)
    expect(tl.littleL).toBeCloseTo(2, 1)
  })
})
