import { beforeEach, describe, expect, it } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { PROTOCOL_VERSION, type ClientFrame } from '../../src/shared/protocol'
import { wire } from '../../src/renderer/src/stores/wire'
import WorkerCard from '../../src/renderer/src/components/WorkerCard.vue'
import HeaderBar from '../../src/renderer/src/components/HeaderBar.vue'
import ActionBar from '../../src/renderer/src/components/ActionBar.vue'
import ActionToasts from '../../src/renderer/src/components/ActionToasts.vue'
import SettingsView from '../../src/renderer/src/views/SettingsView.vue'
import EventsView from '../../src/renderer/src/views/EventsView.vue'
import { memoryTransport, snapshot, worker } from './helpers'

let pinia: Pinia
let m: ReturnType<typeof memoryTransport>
const commands = () => m.sent.filter((f): f is Extract<ClientFrame, { type: 'command' }> => f.type === 'command').map((f) => f.command)

beforeEach(() => {
  pinia = createPinia()
  setActivePinia(pinia)
  m = memoryTransport()
  wire(m.transport)
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

  it('shows an async worker\'s connections against its cap, and the request it is running', () => {
    const w = mount(WorkerCard, {
      props: { now: 5000, current: true, worker: worker({ workerClass: 'async', connections: 250, workerConnections: 1000, oldestRequest: { method: 'GET', url: '/io?ms=100', startedAt: 4900 } }) },
      ...opts(),
    })
    expect(w.find('[data-testid=conn-gauge]').text()).toContain('250 / 1000')
    expect(w.find('[data-testid=conn-gauge] .fill').attributes('style')).toContain('width: 25%')
    expect(w.text()).toContain('GET /io?ms=100')
  })

  it('kill sends the chosen signal to that pid', async () => {
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
    await w.find('[data-testid=btn-quick-confirm]').trigger('click')
    expect(commands()).toEqual([{ cmd: 'stop', mode: 'quick' }])
    m.push({ type: 'snapshot', snapshot: snapshot({ state: 'stopped', workers: [] }) })
    await flushPromises()
    await w.find('[data-testid=btn-start]').trigger('click')
    expect(commands().at(-1)).toEqual({ cmd: 'start' })
  })

  it('an action\'s error stays on screen', async () => {
    const w = mount(ActionToasts, opts())
    const bar = mount(ActionBar, opts())
    await bar.find('[data-testid=btn-hup]').trigger('click')
    m.answerLast({ ok: false, error: { code: 'PADDOCK_ERR_BOOT', message: 'boot failed: SyntaxError in app.mjs; generation 1 keeps serving' } })
    await flushPromises()
    const toast = w.find('[data-testid=action-toast][data-state=error]')
    expect(toast.text()).toContain('generation 1 keeps serving')
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
})
