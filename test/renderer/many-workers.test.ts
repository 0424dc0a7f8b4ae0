/** Many workers (issue 19): a compact table above a size, one tab stop for the card list. */
import { beforeEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import type { Pinia } from 'pinia'
import { PROTOCOL_VERSION } from '../../src/shared/protocol'
import WorkersView from '../../src/renderer/src/views/WorkersView.vue'
import { freshDashboard, memoryTransport, snapshot, worker } from './helpers'

let pinia: Pinia
let m: ReturnType<typeof memoryTransport>
const many = (n: number) => Array.from({ length: n }, (_, i) => worker({ pid: 2000 + i, id: i + 1, requests: (i * 37) % 100, lastHeartbeat: 10_000, spawnedAt: i }))

beforeEach(() => {
  ;({ pinia, m } = freshDashboard())
})
const view = (n: number) => {
  m.push({ type: 'welcome', protocol: PROTOCOL_VERSION, settings: [], snapshot: snapshot({ workers: many(n), targetWorkers: n }) })
  return mount(WorkersView, { global: { plugins: [pinia] }, attachTo: document.body })
}

describe('many workers', () => {
  it('switch to a one-line-per-worker table above 12, sortable and filterable', async () => {
    expect(view(4).find('[data-testid=workers-table]').exists()).toBe(false)
    const w = view(32)
    expect(w.findAll('[data-testid=worker-row]')).toHaveLength(32)
    await w.get('[data-testid=sort-requests]').trigger('click')
    const reqs = w.findAll('[data-testid=worker-row]').map((r) => Number(r.findAll('td')[3]!.text()))
    expect(reqs).toEqual([...reqs].sort((a, b) => b - a))
    await w.get('[data-testid=workers-filter]').setValue('2031')
    expect(w.findAll('[data-testid=worker-row]').map((r) => r.attributes('data-pid'))).toEqual(['2031'])
    // and the cards are one choice away
    await w.get('[data-testid=workers-mode]').setValue('cards')
    expect(w.findAll('[data-testid=worker-card]')).toHaveLength(32)
    w.unmount()
  })

  it('32 cards make one tab stop (plus the active card\'s three controls), and arrow keys move between cards', async () => {
    const w = view(32)
    await w.get('[data-testid=workers-mode]').setValue('cards')
    const list = w.get('[data-testid=workers]')
    const tabbable = list.findAll('[tabindex="0"], select:not([tabindex]), button:not([tabindex])')
    expect(tabbable).toHaveLength(4)
    const cards = list.findAll('[data-testid=worker-card]')
    ;(cards[0]!.element as HTMLElement).focus()
    await cards[0]!.trigger('keydown', { key: 'ArrowRight' })
    expect(cards[1]!.attributes('tabindex')).toBe('0')
    expect(cards[0]!.attributes('tabindex')).toBe('-1')
    expect(document.activeElement).toBe(cards[1]!.element)
    await cards[1]!.trigger('keydown', { key: 'End' })
    expect(cards[31]!.attributes('tabindex')).toBe('0')
    w.unmount()
  })
})

describe('a worker\'s log tail', () => {
  it('opens from the card and shows only that worker\'s lines, oldest first', async () => {
    const { default: WorkerCard } = await import('../../src/renderer/src/components/WorkerCard.vue')
    m.push({ type: 'welcome', protocol: PROTOCOL_VERSION, settings: [], snapshot: snapshot() })
    for (const [pid, message] of [[5, 'Booting worker with pid: 5'], [6, 'other worker'], [5, 'Worker 5 reached max requests (300)']] as const) {
      m.push({ type: 'event', event: { type: 'log', at: 1000, stream: 'error', level: 'info', pid, message } })
    }
    const w = mount(WorkerCard, { props: { now: 10_000, current: true, worker: worker({ pid: 5, lastHeartbeat: 10_000 }) }, global: { plugins: [pinia] } })
    expect(w.find('[data-testid=worker-log]').exists()).toBe(false)
    await w.get('[data-testid=btn-worker-log]').trigger('click')
    expect(w.get('[data-testid=worker-log]').text()).toMatch(/Booting worker with pid: 5[\s\S]*reached max requests/)
    expect(w.get('[data-testid=worker-log]').text()).not.toContain('other worker')
  })
})
