import { beforeEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import type { Pinia } from 'pinia'
import LoadView from '../../src/renderer/src/views/LoadView.vue'
import { useLoadStore } from '../../src/renderer/src/stores/loadtest'
import { loadRun } from '../fixtures/load-run'
import { freshDashboard } from './helpers'

let pinia: Pinia
beforeEach(() => {
  ;({ pinia } = freshDashboard())
})

const view = () => mount(LoadView, { global: { plugins: [pinia] } })

describe('LoadView', () => {
  it('an open loop that fell short of its target says so, with the achieved rate', async () => {
    const w = view()
    useLoadStore().onDone(loadRun({ options: { url: 'http://127.0.0.1:8000/block?ms=10', connections: 10, keepAlive: true, duration: 2, rate: 200 }, achievedRate: 84.2 }))
    await w.vm.$nextTick()
    const achieved = w.get('[data-testid=load-achieved]')
    expect(achieved.text()).toMatch(/achieved 84\.?2? of 200 req\/s: the server or the connections cannot keep up/)
    expect(achieved.classes()).toContain('sev-warning')
  })

  it('an open loop on target shows the rate without a warning; a closed loop shows none', async () => {
    const w = view()
    const store = useLoadStore()
    store.onDone(loadRun({ id: 2, options: { url: 'http://127.0.0.1:8000/', connections: 10, keepAlive: true, duration: 2, rate: 200 }, achievedRate: 199 }))
    await w.vm.$nextTick()
    expect(w.get('[data-testid=load-achieved]').text()).not.toMatch(/keep up/)
    store.onDone(loadRun({ id: 3, achievedRate: 300 }))
    await w.vm.$nextTick()
    expect(w.find('[data-testid=load-achieved]').exists()).toBe(false)
  })

  it('errors are listed by cause', async () => {
    const w = view()
    useLoadStore().onDone(
      loadRun({
        requests: 0,
        errors: { refused: 25, reset: 0, timeout: 0, non2xx: 0, other: 0 },
        errorCauses: { 'ECONNREFUSED: connection refused (nothing listens on that host and port)': 25 },
      }),
    )
    await w.vm.$nextTick()
    expect(w.get('[data-testid=load-causes]').text()).toBe('25 × ECONNREFUSED: connection refused (nothing listens on that host and port)')
  })
})
