import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import type { Pinia } from 'pinia'
import { PROTOCOL_VERSION, type ClientFrame } from '../../src/shared/protocol'
import WorkerCard from '../../src/renderer/src/components/WorkerCard.vue'
import HeaderBar from '../../src/renderer/src/components/HeaderBar.vue'
import ActionBar from '../../src/renderer/src/components/ActionBar.vue'
import ActionToasts from '../../src/renderer/src/components/ActionToasts.vue'
import ActionErrors from '../../src/renderer/src/components/ActionErrors.vue'
import SettingsView from '../../src/renderer/src/views/SettingsView.vue'
import GenerationsTimeline from '../../src/renderer/src/components/GenerationsTimeline.vue'
import LineChart from '../../src/renderer/src/components/LineChart.vue'
import EventsView from '../../src/renderer/src/views/EventsView.vue'
import { MAX_TOASTS, OK_TOAST_MS, useActionsStore } from '../../src/renderer/src/stores/actions'
import { freshDashboard, memoryTransport, snapshot, worker } from './helpers'

let pinia: Pinia
let m: ReturnType<typeof memoryTransport>
const commands = () => m.sent.filter((f): f is Extract<ClientFrame, { type: 'command' }> => f.type === 'command').map((f) => f.command)

beforeEach(() => {
  ;({ pinia, m } = freshDashboard())
})

const opts = () => ({ global: { plugins: [pinia] } })

describe('WorkerCard', () => {
  it('lights one slot per busy thread for gthread', () => {
    const w = mount(WorkerCard, { props: { now: 5000, current: true, worker: worker({ workerClass: 'gthread', threadsTotal: 4, threadsBusy: 2, threadSlots: [true, false, true, false] }) }, ...opts() })
    const slots = w.findAll('[data-testid=thread-slot]')
    expect(slots).toHaveLength(4)
    expect(slots.map((s) => s.attributes('data-busy'))).toEqual(['true', 'false', 'true', 'false'])
    expect(w.find('[data-testid=conn-gauge]').exists()).toBe(false)
  })

  it('shows the worker\'s slot (PADDOCK_WORKER_ID)', () => {
    const w = mount(WorkerCard, { props: { now: 5000, current: true, worker: worker({ slot: 3 }) }, ...opts() })
    expect(w.find('[data-testid=worker-slot]').text()).toBe('#3')
    expect(w.find('[data-testid=worker-slot]').attributes('title')).toBe('PADDOCK_WORKER_ID=3')
  })

  it('shows an async worker\'s connections against its cap, and the request it is running', () => {
    const w = mount(WorkerCard, {
      props: { now: 5000, current: true, worker: worker({ workerClass: 'async', connections: 250, workerConnections: 1000, oldestRequest: { method: 'GET', url: '/io?ms=100', startedAt: 4900 } }) },
      ...opts(),
    })
    expect(w.find('[data-testid=conn-gauge]').text()).toContain('250 / 1000')
    expect(w.find('[data-testid=conn-gauge] .fill').attributes('style')).toContain('width: 25%')
    expect(w.text()).toContain('GET /io?ms=100')
  })

  it('says how long the request has been running for sure: to the last heartbeat, or to now when the worker is silent', () => {
    const card = (lastHeartbeat: number) =>
      mount(WorkerCard, {
        props: { now: 5000, current: true, worker: worker({ workerClass: 'async', lastHeartbeat, oldestRequest: { method: 'GET', url: '/io?ms=20', startedAt: 4700 } }) },
        ...opts(),
      }).text()
    // in flight at the heartbeat 20 ms after it started; it may well have finished since
    expect(card(4720)).toContain('GET /io?ms=20 · ≥ 20 ms')
    // no heartbeat for 3 s: the worker is still in it
    const silent = mount(WorkerCard, {
      props: { now: 5000, current: true, worker: worker({ workerClass: 'async', lastHeartbeat: 2000, oldestRequest: { method: 'GET', url: '/block', startedAt: 1900 } }) },
      ...opts(),
    }).text()
    expect(silent).toContain('GET /block · 3100 ms')
  })

  it('kill sends the chosen signal to that pid', async () => {
    // a live connection: on stale data the button is off (test/renderer/trust.test.ts)
    m.push({ type: 'welcome', protocol: PROTOCOL_VERSION, snapshot: snapshot(), settings: [] })
    const w = mount(WorkerCard, { props: { now: 5000, current: true, worker: worker({ pid: 4321 }) }, ...opts() })
    await w.find('[data-testid=kill-signal]').setValue('SIGKILL')
    await w.find('[data-testid=btn-kill]').trigger('click')
    expect(commands()).toEqual([{ cmd: 'workers.kill', pid: 4321, signal: 'SIGKILL' }])
  })
})

describe('HeaderBar and ActionBar', () => {
  beforeEach(() => {
    m.push({
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      settings: [],
      snapshot: snapshot({ targetWorkers: 3, workers: [worker({ pid: 1 }), worker({ pid: 2, state: 'booting' }), worker({ pid: 3, state: 'exited' })] }),
    })
  })

  it('shows ready / live / target and the bound address', () => {
    const w = mount(HeaderBar, opts())
    expect(w.find('[data-testid=hdr-live]').text()).toBe('1')
    expect(w.find('[data-testid=hdr-workers]').text()).toBe('2')
    expect(w.find('[data-testid=hdr-target]').text()).toBe('3')
    expect(w.find('[data-testid=hdr-binds]').text()).toBe('127.0.0.1:8123')
    expect(w.find('[data-testid=hdr-queue]').text()).toBe('3')
  })

  it('each button sends its command; a class change carries its size', async () => {
    const w = mount(ActionBar, opts())
    await w.find('[data-testid=btn-hup]').trigger('click')
    await w.find('[data-testid=btn-ttin]').trigger('click')
    await w.find('[data-testid=btn-ttou]').trigger('click')
    await w.find('[data-testid=scale-input]').setValue(5)
    await w.find('[data-testid=btn-scale]').trigger('click')
    await w.find('[data-testid=class-select]').setValue('gthread')
    await w.find('[data-testid=threads-input]').setValue(8)
    await w.find('[data-testid=btn-class]').trigger('click')
    expect(commands()).toEqual([
      { cmd: 'reload' },
      { cmd: 'workers.add', count: 1 },
      { cmd: 'workers.remove', count: 1 },
      { cmd: 'workers.scale', count: 5 },
      { cmd: 'class.set', workerClass: 'gthread', threads: 8, workerConnections: undefined },
    ])
  })

  it('quick stop asks before cutting requests off; a stopped server offers start', async () => {
    const w = mount(ActionBar, opts())
    await w.find('[data-testid=btn-quick]').trigger('click')
    expect(commands()).toEqual([])
    await w.find('[data-testid=btn-confirm]').trigger('click')
    expect(commands()).toEqual([{ cmd: 'stop', mode: 'quick' }])
    m.push({ type: 'snapshot', snapshot: snapshot({ state: 'stopped', workers: [] }) })
    await flushPromises()
    await w.find('[data-testid=btn-start]').trigger('click')
    expect(commands().at(-1)).toEqual({ cmd: 'start' })
  })

  it('USR2 shows only where it can be taken; during an upgrade the bar says so and offers WINCH', async () => {
    const none = { available: false, newMasterPid: null, newMasterReady: false, oldMasterPid: null }
    const w = mount(ActionBar, opts())
    const h = mount(HeaderBar, opts())
    // a hosted server (desktop app, `paddock dashboard APP`) cannot re-exec: no dead button
    expect(w.find('[data-testid=upgrade-group]').exists()).toBe(false)
    m.push({ type: 'snapshot', snapshot: snapshot({ upgrade: { ...none, available: true } }) })
    await flushPromises()
    await w.find('[data-testid=btn-usr2]').trigger('click')
    expect(commands()).toEqual([{ cmd: 'reexec' }])
    m.push({ type: 'snapshot', snapshot: snapshot({ upgrade: { ...none, newMasterPid: 777 } }) })
    await flushPromises()
    expect(w.find('[data-testid=btn-usr2]').exists()).toBe(false)
    expect(w.find('[data-testid=upgrade-state]').text()).toBe('new master 777 starting…')
    expect(w.find('[data-testid=btn-winch]').attributes('disabled')).toBeDefined()
    m.push({ type: 'snapshot', snapshot: snapshot({ upgrade: { ...none, newMasterPid: 777, newMasterReady: true } }) })
    await flushPromises()
    expect(w.find('[data-testid=upgrade-state]').text()).toContain('serves beside this one')
    await w.find('[data-testid=btn-winch]').trigger('click')
    await w.find('[data-testid=btn-usr2-cancel]').trigger('click')
    expect(commands().slice(1)).toEqual([{ cmd: 'workers.stopAll' }, { cmd: 'reexec.cancel' }])
    // the new master, while the old one still runs
    m.push({ type: 'snapshot', snapshot: snapshot({ pid: 777, upgrade: { ...none, oldMasterPid: 42 } }) })
    await flushPromises()
    expect(h.find('[data-testid=hdr-old-master]').text()).toBe('old master 42 still serving')
    expect(w.find('[data-testid=upgrade-group]').exists()).toBe(false)
  })

  it('an action\'s error stays on screen', async () => {
    const w = mount(ActionErrors, opts())
    const bar = mount(ActionBar, opts())
    await bar.find('[data-testid=btn-hup]').trigger('click')
    m.answerLast({ ok: false, error: { code: 'PADDOCK_ERR_BOOT', message: 'boot failed: SyntaxError in app.mjs; generation 1 keeps serving' } })
    await flushPromises()
    expect(w.find('[data-testid=action-error]').text()).toContain('generation 1 keeps serving')
  })
})

describe('ActionToasts and ActionErrors', () => {
  // only the clock the toasts read is faked: promises and the session's timers stay real
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] }))
  afterEach(() => void vi.useRealTimers())

  async function act(label: string, result: Parameters<typeof m.answerLast>[0]) {
    const done = useActionsStore().run(label, { cmd: 'workers.add', count: 1 })
    m.answerLast(result)
    await done
    await flushPromises()
  }
  const toasts = (w: ReturnType<typeof mount>) => w.findAll('[data-testid=action-toast]').map((t) => `${t.attributes('data-state')}: ${t.find('b').text()}`)

  it('a success floats and leaves after a few seconds; an error goes to the panel under the bar and stays until dismissed', async () => {
    const w = mount(ActionToasts, opts())
    const panel = mount(ActionErrors, opts())
    await act('broken', { ok: false, error: { code: 'PADDOCK_ERR_BOOT', message: 'boot failed' } })
    await act('add a worker (TTIN)', { ok: true, message: 'target workers: 3' })
    expect(toasts(w)).toEqual(['ok: add a worker (TTIN)'])
    expect(panel.findAll('[data-testid=action-error]').map((e) => e.find('b').text())).toEqual(['broken'])
    vi.advanceTimersByTime(OK_TOAST_MS + 600)
    await flushPromises()
    expect(toasts(w)).toEqual([])
    vi.advanceTimersByTime(10 * 60_000)
    await flushPromises()
    expect(panel.findAll('[data-testid=action-error]')).toHaveLength(1)
    await panel.find('[data-testid=btn-error-dismiss]').trigger('click')
    expect(panel.find('[data-testid=action-errors]').exists()).toBe(false)
  })

  it('floating toasts let clicks through to the controls under them, and only a few show at once', async () => {
    const w = mount(ActionToasts, opts())
    for (let i = 1; i <= 5; i++) await act(`TTIN ${i}`, { ok: true, message: 'ok' })
    expect(toasts(w)).toHaveLength(MAX_TOASTS)
    expect(toasts(w)[0]).toBe('ok: TTIN 5')
    expect(w.find('[data-testid=toasts-more]').text()).toBe(`+${5 - MAX_TOASTS} more`)
    expect(w.find('.toast .x').exists()).toBe(false)
  })
})

describe('charts', () => {
  it('a chart with nothing but gaps says why it is empty', () => {
    const props = { title: 'latency', unit: ' ms', times: [1, 2, 3], emptyText: 'no requests yet' }
    const empty = mount(LineChart, { props: { ...props, series: [{ name: 'p50', color: '#3ecf8e', values: [null, null, null] }] } })
    expect(empty.find('[data-testid=chart-empty]').text()).toBe('no requests yet')
    expect(empty.text()).toContain('p50 –')
    expect(empty.text()).not.toContain('– ms')
    const full = mount(LineChart, { props: { ...props, series: [{ name: 'p50', color: '#3ecf8e', values: [null, 4, 5] }] } })
    expect(full.find('[data-testid=chart-empty]').exists()).toBe(false)
  })

  it('a value with gaps on both sides (the first latency figure) is drawn, not just moved to', () => {
    const props = { title: 'latency', unit: ' ms', times: [1, 2, 3, 4] }
    const d = (values: (number | null)[]) =>
      mount(LineChart, { props: { ...props, series: [{ name: 'p50', color: '#3ecf8e', values }] } }).find('path[data-series=p50]').attributes('d')!
    // something that strokes: a line (L) or a dash (h), not a lone M
    expect(d([null, null, null, 54])).toMatch(/^M[\d.]+,[\d.]+m-3,0h6$/)
    expect(d([null, 5, null, 7])).toMatch(/^M[^M]+h6M[^M]+h6$/)
    expect(d([null, 4, 5, null])).toMatch(/^M[\d.]+,[\d.]+L[\d.]+,[\d.]+$/)
  })

  it('the generations timeline spans what it shows, not a fixed minute, right after start-up', async () => {
    m.push({ type: 'event', event: { type: 'worker.spawned', at: 7000, pid: 5, generation: 1, workerClass: 'sync' } })
    m.push({ type: 'event', event: { type: 'worker.ready', at: 7200, pid: 5, generation: 1, bootMs: 200 } })
    m.push({ type: 'event', event: { type: 'worker.spawned', at: 9000, pid: 6, generation: 2, workerClass: 'sync' } })
    const w = mount(GenerationsTimeline, { props: { now: 10_000 }, ...opts() })
    expect(w.find('h3').text()).toBe('workers by generation (last 10 s)')
    // worker 5's bar starts 3 s before now: 70% along a 10 s axis (it was at 95% of 60 s)
    expect(w.find('.seg').attributes('style')).toContain('left: 70%')
    await w.setProps({ now: 200_000 })
    expect(w.find('h3').text()).toBe('workers by generation (last 60 s)')
  })
})

describe('SettingsView and EventsView', () => {
  it('sends a setting change and shows the engine\'s validation message', async () => {
    m.push({
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      snapshot: snapshot(),
      settings: [{ name: 'timeout', value: 30, default: 30, source: 'default', apply: 'live', type: 'int', description: 'worker silence limit' }],
    })
    const w = mount(SettingsView, opts())
    await w.find('[data-testid=setting-timeout]').setValue('-3')
    await w.find('[data-testid=setting-save-timeout]').trigger('click')
    expect(commands()).toEqual([{ cmd: 'config.set', name: 'timeout', value: '-3' }])
    m.answerLast({ ok: false, error: { code: 'PADDOCK_ERR_INVALID_VALUE', message: 'timeout must be a non-negative integer' } })
    await flushPromises()
    expect(w.find('[data-testid=setting-error]').text()).toBe('timeout must be a non-negative integer')
  })

  it('the pause button freezes the lists and counts what arrived meanwhile', async () => {
    const w = mount(EventsView, opts())
    m.push({ type: 'event', event: { type: 'worker.spawned', at: 1, pid: 5, generation: 1, workerClass: 'sync' } })
    await flushPromises()
    await w.find('[data-testid=btn-pause]').trigger('click')
    m.push({ type: 'event', event: { type: 'worker.ready', at: 2, pid: 5, generation: 1, bootMs: 10 } })
    await flushPromises()
    expect(w.findAll('[data-testid=event-line]')).toHaveLength(1)
    expect(w.find('[data-testid=btn-pause]').text()).toBe('resume (1 new)')
    await w.find('[data-testid=btn-pause]').trigger('click')
    expect(w.findAll('[data-testid=event-line]')).toHaveLength(2)
  })

  it('the worker select shows only the chosen worker\'s log lines', async () => {
    const w = mount(EventsView, opts())
    for (const [pid, message] of [[41, 'hello from 41'], [42, 'hello from 42']] as const) m.push({ type: 'event', event: { type: 'log', at: 1, stream: 'error', level: 'info', pid, message } })
    await flushPromises()
    expect(w.findAll('[data-testid=log-worker] option').map((o) => o.text())).toEqual(['all', '41', '42'])
    await w.find('[data-testid=log-worker]').setValue((w.findAll('[data-testid=log-worker] option')[2]!.element as HTMLOptionElement).value)
    expect(w.findAll('[data-testid=log-line]').map((l) => l.text())).toEqual([expect.stringContaining('hello from 42')])
  })
})
