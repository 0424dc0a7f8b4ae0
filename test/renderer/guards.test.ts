/** Guard rails in the dashboard (issue 19): scale bounds, questions before destructive actions that expire. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import type { Pinia } from 'pinia'
import { PROTOCOL_VERSION, type ClientFrame, type SettingInfo } from '../../src/shared/protocol'
import ActionBar from '../../src/renderer/src/components/ActionBar.vue'
import WorkerCard from '../../src/renderer/src/components/WorkerCard.vue'
import SettingsView from '../../src/renderer/src/views/SettingsView.vue'
import { CONFIRM_MS } from '../../src/renderer/src/lib/confirm'
import { freshDashboard, memoryTransport, snapshot, worker } from './helpers'

let pinia: Pinia
let m: ReturnType<typeof memoryTransport>
const commands = () => m.sent.filter((f): f is Extract<ClientFrame, { type: 'command' }> => f.type === 'command').map((f) => f.command)
const opts = () => ({ global: { plugins: [pinia] } })
const maxWorkers: SettingInfo = { name: 'max_workers', value: 32, default: 32, source: 'default', apply: 'live', type: 'int', description: 'Upper bound on workers' }
const system = { load1: 0.1, cpu: 3, memTotal: 8e9, memUsed: 1e9, cores: 2 }

beforeEach(() => {
  vi.useFakeTimers()
  ;({ pinia, m } = freshDashboard())
  m.push({
    type: 'welcome',
    protocol: PROTOCOL_VERSION,
    settings: [maxWorkers],
    snapshot: snapshot({ targetWorkers: 2, system, workers: [worker({ pid: 1, inFlight: 3, rss: 50 * 2 ** 20, lastHeartbeat: 10_000 }), worker({ pid: 2, rss: 50 * 2 ** 20, lastHeartbeat: 10_000 })] }),
  })
})
afterEach(() => vi.useRealTimers())

describe('scale', () => {
  it('refuses a fraction and a count beyond max_workers at the field, with the reason, and sends nothing', async () => {
    const w = mount(ActionBar, opts())
    for (const [value, why] of [[2.5, /not a whole number/], [500, /at most 32 \(max_workers/]] as const) {
      await w.get('[data-testid=scale-input]').setValue(value)
      expect(w.get('[data-testid=scale-error]').text()).toMatch(why)
      expect(w.get('[data-testid=btn-scale]').attributes('disabled')).toBeDefined()
    }
    expect(commands()).toEqual([])
  })

  it('asks before scaling far beyond the CPUs, saying the memory it will take', async () => {
    const w = mount(ActionBar, opts())
    await w.get('[data-testid=scale-input]').setValue(20)
    await w.get('[data-testid=btn-scale]').trigger('click')
    expect(commands()).toEqual([])
    expect(w.get('[data-testid=confirm]').text()).toMatch(/20 workers on 2 CPUs.*about 1000\.0 MiB of memory at 50\.0 MiB each/)
    await w.get('[data-testid=btn-confirm]').trigger('click')
    expect(commands()).toEqual([{ cmd: 'workers.scale', count: 20 }])
    // within the CPUs: no question
    await w.get('[data-testid=scale-input]').setValue(3)
    await w.get('[data-testid=btn-scale]').trigger('click')
    expect(commands().at(-1)).toEqual({ cmd: 'workers.scale', count: 3 })
  })
})

describe('questions before destructive actions', () => {
  it('quick stop asks; the question expires after a few seconds and can be cancelled', async () => {
    const w = mount(ActionBar, opts())
    await w.get('[data-testid=btn-quick]').trigger('click')
    expect(w.get('[data-testid=confirm]').text()).toMatch(/cuts off 3 requests in flight/)
    await vi.advanceTimersByTimeAsync(CONFIRM_MS + 100)
    expect(w.find('[data-testid=confirm]').exists()).toBe(false)
    // fresh data again (the bar is off on data older than 2 s)
    m.push({ type: 'snapshot', snapshot: snapshot({ targetWorkers: 2, workers: [worker({ inFlight: 1 })] }) })
    await flushPromises()
    await w.get('[data-testid=btn-quick]').trigger('click')
    await w.get('[data-testid=btn-confirm-cancel]').trigger('click')
    expect(w.find('[data-testid=confirm]').exists()).toBe(false)
    expect(commands()).toEqual([])
  })

  it('a graceful stop asks while requests are in flight', async () => {
    const w = mount(ActionBar, opts())
    await w.get('[data-testid=btn-stop]').trigger('click')
    expect(commands()).toEqual([])
    await w.get('[data-testid=btn-confirm]').trigger('click')
    expect(commands()).toEqual([{ cmd: 'stop', mode: 'graceful' }])
  })

  it('kill asks while the worker has requests in flight, and not when it is idle', async () => {
    const busy = mount(WorkerCard, { props: { now: 10_000, current: true, worker: worker({ pid: 1, inFlight: 3, lastHeartbeat: 10_000 }) }, ...opts() })
    await busy.get('[data-testid=btn-kill]').trigger('click')
    expect(busy.get('[data-testid=kill-question]').text()).toBe('3 requests in flight')
    expect(commands()).toEqual([])
    await busy.get('[data-testid=btn-kill-confirm]').trigger('click')
    expect(commands()).toEqual([{ cmd: 'workers.kill', pid: 1, signal: 'SIGTERM' }])
    const idle = mount(WorkerCard, { props: { now: 10_000, current: true, worker: worker({ pid: 2, lastHeartbeat: 10_000 }) }, ...opts() })
    await idle.get('[data-testid=btn-kill]').trigger('click')
    expect(commands().at(-1)).toEqual({ cmd: 'workers.kill', pid: 2, signal: 'SIGTERM' })
  })
})

describe('settings', () => {
  it('show units and descriptions, and what is in effect beside a refused change', async () => {
    m.push({ type: 'welcome', protocol: PROTOCOL_VERSION, snapshot: snapshot(), settings: [{ name: 'timeout', value: 30, default: 30, source: 'default', apply: 'reload', type: 'int', unit: 's', description: 'A worker whose event loop is silent this long is killed.' }] })
    const w = mount(SettingsView, opts())
    expect(w.get('[data-testid=setting-unit]').text()).toBe('s')
    expect(w.get('[data-testid=setting-description]').text()).toMatch(/silent this long is killed/)
    await w.get('[data-testid=setting-timeout]').setValue('')
    await w.get('[data-testid=setting-save-timeout]').trigger('click')
    m.answerLast({ ok: false, error: { code: 'PADDOCK_ERR_INVALID_VALUE', message: 'timeout (--timeout): needs a value' } })
    await flushPromises()
    expect(w.get('[data-testid=setting-error]').text()).toMatch(/needs a value/)
    expect(w.get('[data-testid=setting-in-effect]').text()).toBe('in effect: 30 s')
  })
})

describe('long operations', () => {
  it('an action without an answer after 15 s says it is still under way, not that it failed, and ends with the answer', async () => {
    const { useActionsStore, SLOW_ACTION_MS } = await import('../../src/renderer/src/stores/actions')
    const actions = useActionsStore()
    const done = actions.run('scale to 20', { cmd: 'workers.scale', count: 20 })
    await vi.advanceTimersByTimeAsync(SLOW_ACTION_MS + 30_000)
    expect(actions.list[0]).toMatchObject({ state: 'running', message: expect.stringMatching(/still under way/) })
    m.answerLast({ ok: true, message: 'target workers: 20' })
    await done
    expect(actions.list[0]).toMatchObject({ state: 'ok', message: 'target workers: 20' })
  })
})
