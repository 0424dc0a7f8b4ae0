import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import type { Pinia } from 'pinia'
import { PROTOCOL_VERSION, type ClientFrame } from '../../src/shared/protocol'
import type { ReplayedHistory } from '../../src/shared/history'
import { useHistoryStore } from '../../src/renderer/src/stores/history'
import { useEventsStore } from '../../src/renderer/src/stores/events'
import EventsView from '../../src/renderer/src/views/EventsView.vue'
import { freshDashboard, memoryTransport, snapshot } from './helpers'

let pinia: Pinia
let m: ReturnType<typeof memoryTransport>
beforeEach(() => {
  ;({ pinia, m } = freshDashboard())
})

const kept: ReplayedHistory = {
  points: Array.from({ length: 40 }, (_, i) => ({ t: 1000 + i * 250, rps: i, p50: 2, p99: 9, inFlight: 1, queued: 0, queueDepth: 0, workers: 1, perWorker: [{ pid: 1000, requests: i * 10, inFlight: 1, cpu: 5, rss: 1e7 }] })),
  events: [
    { type: 'worker.spawned', at: 900, pid: 1000, generation: 1, workerClass: 'sync' },
    { type: 'worker.ready', at: 950, pid: 1000, generation: 1, bootMs: 50 },
  ],
}

describe('a new tab', () => {
  it('starts with the history and events the server replays in its welcome, not blank', () => {
    m.push({ type: 'welcome', protocol: PROTOCOL_VERSION, snapshot: snapshot({ at: 11_000 }), settings: [], history: kept })
    const history = useHistoryStore()
    // 40 replayed points, then the welcome's own snapshot
    expect(history.series()).toHaveLength(41)
    expect(history.series()[0]!.t).toBe(1000)
    expect(history.workerSeries(1000).at(-2)!.rps).toBeCloseTo(40)
    const events = useEventsStore()
    expect(events.events.map((e) => e.kind)).toEqual(['worker.ready', 'worker.spawned'])
    expect(events.lives.get(1000)?.readyAt).toBe(950)
  })

  it('a reconnect replaces what it had with the server record instead of doubling it', () => {
    m.push({ type: 'welcome', protocol: PROTOCOL_VERSION, snapshot: snapshot(), settings: [], history: kept })
    m.push({ type: 'welcome', protocol: PROTOCOL_VERSION, snapshot: snapshot(), settings: [], history: kept })
    expect(useHistoryStore().series()).toHaveLength(41)
    expect(useEventsStore().events).toHaveLength(2)
  })
})

describe('export from the dashboard', () => {
  it('asks the server for its record and saves the events as CSV', async () => {
    m.push({ type: 'welcome', protocol: PROTOCOL_VERSION, snapshot: snapshot(), settings: [] })
    const saved: { name: string; href: string }[] = []
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      saved.push({ name: this.download, href: this.href })
    })
    const blobs: Blob[] = []
    const createUrl = vi.spyOn(URL, 'createObjectURL').mockImplementation((b) => (blobs.push(b as Blob), 'blob:x'))
    const w = mount(EventsView, { global: { plugins: [pinia] } })
    await w.get('[data-testid=export-events-csv]').trigger('click')
    const cmd = m.sent.filter((f): f is Extract<ClientFrame, { type: 'command' }> => f.type === 'command').at(-1)!.command
    expect(cmd).toEqual({ cmd: 'history.get' })
    m.answerLast({ ok: true, data: kept })
    await flushPromises()
    expect(saved).toHaveLength(1)
    expect(saved[0]!.name).toMatch(/^paddock-events-.*\.csv$/)
    const text = await blobs[0]!.text()
    expect(text.split('\r\n')[0]).toBe('time,t_ms,type,pid,message,details')
    expect(text).toContain(',worker.ready,1000,')
    click.mockRestore()
    createUrl.mockRestore()
  })
})
