/**
 * The Fleet view and its store over in-memory transports, one per server: a rolling reload
 * goes one server at a time and stops at a failure; rows show each server's figures and a
 * dropped server as disconnected; totals add the servers up.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import type { ClientFrame } from '../../src/shared/protocol'
import FleetView from '../../src/renderer/src/views/FleetView.vue'
import { useFleetStore } from '../../src/renderer/src/stores/fleet'
import type { FleetServerSpec } from '../../src/shared/bridge'
import { memoryTransport, snapshot, worker } from './helpers'

let pinia: Pinia
const wires = new Map<string, ReturnType<typeof memoryTransport>>()
const specs = new Map<string, FleetServerSpec>()
const commands = (address: string) =>
  wires.get(address)!.sent.filter((f): f is Extract<ClientFrame, { type: 'command' }> => f.type === 'command').map((f) => f.command.cmd)

beforeEach(() => {
  pinia = createPinia()
  setActivePinia(pinia)
  wires.clear()
  specs.clear()
  useFleetStore().setConnector((spec) => {
    specs.set(spec.address, spec)
    const m = memoryTransport()
    wires.set(spec.address, m)
    return m.transport
  })
})

function addServers(...addresses: string[]) {
  const fleet = useFleetStore()
  addresses.forEach((address, i) => {
    fleet.add({ address, token: 'tok' })
    const snap = snapshot({ pid: 100 + i, generation: 1, targetWorkers: 2, workers: [worker({ pid: 1000 + 10 * i }), worker({ pid: 1001 + 10 * i })] })
    wires.get(address)!.push({ type: 'welcome', protocol: 1, snapshot: snap, settings: [] })
  })
  return fleet
}

/** the server answers the reload and then runs its generation 2 */
function reloadOk(address: string, pid: number) {
  wires.get(address)!.push({ type: 'snapshot', snapshot: snapshot({ pid, generation: 2, workers: [worker({ pid: pid + 5000, generation: 2 })] }) })
  wires.get(address)!.answerLast({ ok: true, message: 'generation 2 serving' })
}

describe('fleet store', () => {
  it('reloads one server at a time and stops at a failed reload, leaving the rest alone', async () => {
    const fleet = addServers('a:1', 'b:2', 'c:3')
    const done = fleet.rollingReload()
    await flushPromises()
    expect(commands('a:1')).toEqual(['reload'])
    expect(commands('b:2')).toEqual([])
    expect(fleet.servers.map((s) => s.rollout?.step)).toEqual(['reloading', 'waiting', 'waiting'])
    reloadOk('a:1', 100)
    await flushPromises()
    expect(commands('b:2')).toEqual(['reload'])
    wires.get('b:2')!.answerLast({ ok: false, error: { code: 'PADDOCK_ERR_BOOT', message: 'boot failed: broken deploy' } })
    expect(await done).toBe(false)
    expect(fleet.servers.map((s) => s.rollout?.step)).toEqual(['done', 'failed', 'skipped'])
    expect(commands('c:3')).toEqual([])
    expect(fleet.rolloutMessage).toBe('rolling reload stopped at b:2: boot failed: broken deploy (PADDOCK_ERR_BOOT)')
  })

  it('adds the servers up, with the error rate from sampled spans', () => {
    const fleet = addServers('a:1', 'b:2')
    const span = (status: number) => ({ pid: 1, generation: 1, thread: 0, method: 'GET', path: '/', status, start: 0, durationMs: 1 })
    wires.get('a:1')!.push({ type: 'event', event: { type: 'spans', at: 10_000, spans: [span(200), span(200), span(500), span(200)], dropped: 0 } })
    wires.get('b:2')!.push({ type: 'snapshot', snapshot: snapshot({ pid: 101, targetWorkers: 3, rates: { requestsPerSec: 40, p50Ms: 2, p99Ms: 30 }, workers: [worker(), worker({ pid: 7, state: 'booting' })] }) })
    expect(fleet.totals).toMatchObject({ servers: 2, open: 2, ready: 3, target: 5, rps: 40, p99: 30, queue: 6, errorRate: 0.25 })
  })
})

describe('FleetView', () => {
  it('shows a row per server with its worker pids, and a dropped server as disconnected', async () => {
    addServers('127.0.0.2:9400', '127.0.0.3:9400')
    const w = mount(FleetView, { global: { plugins: [pinia] } })
    await flushPromises()
    const rows = w.findAll('[data-testid=fleet-row]')
    expect(rows.map((r) => r.find('[data-testid=fleet-pids]').text())).toEqual(['1000 1001', '1010 1011'])
    expect(rows.map((r) => r.find('[data-testid=fleet-state]').text())).toEqual(['running', 'running'])
    wires.get('127.0.0.3:9400')!.drop('127.0.0.3:9400 closed the connection')
    await flushPromises()
    expect(w.findAll('[data-testid=fleet-state]')[1]!.text()).toBe('disconnected (127.0.0.3:9400 closed the connection)')
    expect(w.find('[data-testid=fleet-total]').text()).toMatch(/^1\/2 connected/)
    await w.find('[data-testid=fleet-scale-n]').setValue(4)
    await w.find('[data-testid=fleet-scale]').trigger('click')
    expect(commands('127.0.0.2:9400')).toEqual(['workers.scale'])
    expect(commands('127.0.0.3:9400')).toEqual([])
  })
})

describe('FleetView: local servers', () => {
  it('adds the servers running on this machine in one click, without a token, and only once', async () => {
    const fleet = useFleetStore()
    let asked = 0
    fleet.setLocalLister(async () => {
      asked++
      return {
        dir: '/run/user/1000/paddock',
        servers: [
          { address: 'unix:/run/user/1000/paddock/4242.sock', name: '4242.sock' },
          { address: 'unix:/run/user/1000/paddock/api.sock', name: 'api.sock' },
        ],
      }
    })
    const w = mount(FleetView, { global: { plugins: [pinia] } })
    await w.find('[data-testid=fleet-local]').trigger('click')
    await flushPromises()
    expect(asked).toBe(1)
    expect(fleet.servers.map((s) => s.address)).toEqual(['unix:/run/user/1000/paddock/4242.sock', 'unix:/run/user/1000/paddock/api.sock'])
    // each gets its own session, reached without a token
    expect([...specs.values()].map((s) => s.token)).toEqual(['', ''])
    wires.get('unix:/run/user/1000/paddock/api.sock')!.push({ type: 'welcome', protocol: 1, snapshot: snapshot({ pid: 4343, workers: [worker({ pid: 5000 })] }), settings: [] })
    await flushPromises()
    const rows = w.findAll('[data-testid=fleet-row]')
    expect(rows.map((r) => r.find('td').text())).toEqual(['local: 4242.sock', 'local: api.sock'])
    expect(rows[1]!.find('[data-testid=fleet-pids]').text()).toBe('5000')
    expect(w.find('[data-testid=fleet-local-note]').text()).toBe('2 local servers in /run/user/1000/paddock: 2 added')
    // a second click adds no duplicates
    await w.find('[data-testid=fleet-local]').trigger('click')
    await flushPromises()
    expect(fleet.servers).toHaveLength(2)
    expect(w.find('[data-testid=fleet-local-note]').text()).toMatch(/all already here/)
  })

  it('says where it looked when none runs, and lets a unix: address be typed without a token', async () => {
    const fleet = useFleetStore()
    fleet.setLocalLister(async () => ({ dir: '/tmp/paddock-0', servers: [] }))
    const w = mount(FleetView, { global: { plugins: [pinia] } })
    await w.find('[data-testid=fleet-local]').trigger('click')
    await flushPromises()
    expect(w.find('[data-testid=fleet-local-note]').text()).toBe('no paddock server running on this machine (looked in /tmp/paddock-0)')
    await w.find('[data-testid=fleet-address]').setValue('10.0.0.5:9400')
    expect(w.find('[data-testid=fleet-add]').attributes('disabled')).toBeDefined()
    await w.find('[data-testid=fleet-address]').setValue('unix:/tmp/paddock-0/x.sock')
    expect(w.find('[data-testid=fleet-add]').attributes('disabled')).toBeUndefined()
    await w.find('[data-testid=fleet-add-form]').trigger('submit')
    expect(fleet.servers.map((s) => s.address)).toEqual(['unix:/tmp/paddock-0/x.sock'])
  })
})
