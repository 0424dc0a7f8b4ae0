import { beforeEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import type { Pinia } from 'pinia'
import { PROTOCOL_VERSION } from '../../src/shared/protocol'
import WorkersView from '../../src/renderer/src/views/WorkersView.vue'
import { EXITED_SHOWN } from '../../src/renderer/src/lib/workers'
import { freshDashboard, memoryTransport, snapshot, worker } from './helpers'

let pinia: Pinia
let m: ReturnType<typeof memoryTransport>

beforeEach(() => {
  ;({ pinia, m } = freshDashboard())
})

const NOW = 100_000
const cards = (w: ReturnType<typeof mount>) =>
  w.findAll('[data-testid=worker-card]').map((c) => ({ pid: Number(c.attributes('data-pid')), state: c.attributes('data-state') }))

/** Six reloads' worth of exited workers (ids 1..12, each exited 5 s after the one before) and two live ones of generation 7. */
function afterReloads() {
  const exited = Array.from({ length: 12 }, (_, i) =>
    worker({ pid: 100 + i, id: i + 1, generation: Math.floor(i / 2) + 1, state: 'exited', spawnedAt: i * 5000, lastHeartbeat: NOW - 60_000 + i * 5000, reason: `replaced by generation ${Math.floor(i / 2) + 2}` }),
  )
  const live = [
    worker({ pid: 301, id: 14, generation: 7, state: 'ready', spawnedAt: NOW - 2000 }),
    worker({ pid: 300, id: 13, generation: 7, state: 'ready', spawnedAt: NOW - 3000 }),
  ]
  return [...live, ...exited]
}

describe('WorkersView', () => {
  it('shows live workers first, by generation then age, and only the last few exited ones after them', async () => {
    const workers = [
      worker({ pid: 12, id: 3, generation: 2, state: 'booting', spawnedAt: NOW - 500 }),
      worker({ pid: 11, id: 1, generation: 1, state: 'exited', spawnedAt: 0, lastHeartbeat: NOW - 1000, reason: 'killed by SIGKILL' }),
      worker({ pid: 13, id: 2, generation: 1, state: 'draining', spawnedAt: 1000 }),
      worker({ pid: 14, id: 4, generation: 2, state: 'ready', spawnedAt: NOW - 900 }),
    ]
    m.push({ type: 'welcome', protocol: PROTOCOL_VERSION, settings: [], snapshot: snapshot({ at: NOW, generation: 2, workers }) })
    const w = mount(WorkersView, { global: { plugins: [pinia] } })
    await flushPromises()
    expect(cards(w)).toEqual([
      { pid: 13, state: 'draining' },
      { pid: 14, state: 'ready' },
      { pid: 12, state: 'booting' },
      { pid: 11, state: 'exited' },
    ])
    // the exited one sits in its own group, with its reason and how long ago it went
    const group = w.find('[data-testid=exited-workers]')
    expect(group.findAll('[data-testid=worker-card]')).toHaveLength(1)
    expect(group.find('[data-testid=worker-exit]').text()).toBe('killed by SIGKILL')
    expect(group.find('[data-testid=worker-age]').text()).toBe('1s ago')
    expect(w.find('[data-testid=workers]').findAll('[data-state=exited]')).toHaveLength(0)
  })

  it('does not let exited cards pile up across reloads', async () => {
    m.push({ type: 'welcome', protocol: PROTOCOL_VERSION, settings: [], snapshot: snapshot({ at: NOW, generation: 7, workers: afterReloads() }) })
    const w = mount(WorkersView, { global: { plugins: [pinia] } })
    await flushPromises()
    const shown = cards(w)
    expect(shown.slice(0, 2)).toEqual([
      { pid: 300, state: 'ready' },
      { pid: 301, state: 'ready' },
    ])
    // the most recent exits, newest first
    expect(shown.slice(2).map((c) => c.pid)).toEqual([111, 110, 109, 108])
    expect(shown).toHaveLength(2 + EXITED_SHOWN)
    expect(w.find('[data-testid=exited-hidden]').text()).toContain('8 more not shown')
  })

  it('an exit time from the lifecycle events wins over the last heartbeat, and exits older than a minute are not shown', async () => {
    m.push({ type: 'welcome', protocol: PROTOCOL_VERSION, settings: [], snapshot: snapshot({ at: NOW, workers: [worker({ pid: 50, id: 1, state: 'ready' })] }) })
    m.push({ type: 'event', event: { type: 'worker.exited', at: NOW - 61_000, pid: 40, generation: 1, code: 0, signal: null, reason: 'TTOU: fewer workers', expected: true } })
    m.push({ type: 'event', event: { type: 'worker.exited', at: NOW - 2_000, pid: 41, generation: 1, code: 0, signal: null, reason: 'TTOU: fewer workers', expected: true } })
    m.push({
      type: 'snapshot',
      snapshot: snapshot({
        at: NOW,
        workers: [
          worker({ pid: 50, id: 3, state: 'ready' }),
          worker({ pid: 40, id: 1, state: 'exited', lastHeartbeat: NOW - 100 }),
          worker({ pid: 41, id: 2, state: 'exited', lastHeartbeat: NOW - 100 }),
        ],
      }),
    })
    const w = mount(WorkersView, { global: { plugins: [pinia] } })
    await flushPromises()
    expect(cards(w).map((c) => c.pid)).toEqual([50, 41])
    expect(w.find('[data-testid=exited-workers] [data-testid=worker-age]').text()).toBe('2s ago')
  })
})
