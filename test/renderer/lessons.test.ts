import { beforeEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import type { Pinia } from 'pinia'
import type { ClientFrame, ExperimentResult, ExperimentSubject } from '../../src/shared/protocol'
import LessonsView from '../../src/renderer/src/views/LessonsView.vue'
import { LESSONS } from '../../src/renderer/src/lib/lessons'
import { freshDashboard, memoryTransport } from './helpers'

let pinia: Pinia
let m: ReturnType<typeof memoryTransport>

beforeEach(() => {
  ;({ pinia, m } = freshDashboard())
})

function result(subject: ExperimentSubject, rps: number): ExperimentResult {
  const base = { id: 1, options: { url: '/', connections: 1, duration: 1, keepAlive: true }, startedAt: 0, finishedAt: 1000, progress: 1, elapsedSec: 1, remainingSec: 0 }
  return {
    subject,
    result: { ...base, requests: rps, requestsPerSec: rps, latency: { p50: 1, p90: 1, p99: 2, max: 3, mean: 1 }, errors: { refused: 0, reset: 0, timeout: 0, non2xx: 0, other: 0 }, perSecond: [], histogram: [], running: false, statusCodes: {}, stoppedEarly: false },
  }
}

describe('lessons', () => {
  it('every lesson states a prediction and has something to run', () => {
    expect(LESSONS.map((l) => l.id)).toEqual(['io', 'cpu', 'blocking', 'keepalive', 'slow-client', 'max-requests'])
    for (const l of LESSONS) {
      expect(l.prediction.length).toBeGreaterThan(40)
      expect(l.steps.length).toBeGreaterThan(0)
    }
  })

  it('runs the I/O lesson through the server and judges the prediction from the measured numbers', async () => {
    const w = mount(LessonsView, { global: { plugins: [pinia] } })
    await w.find('[data-testid=btn-lesson-io]').trigger('click')
    const sent = m.sent.filter((f): f is Extract<ClientFrame, { type: 'command' }> => f.type === 'command')
    expect(sent.at(-1)!.command).toMatchObject({ cmd: 'experiment.run', options: { load: { url: '/io?ms=100' } } })
    const subjects = (sent.at(-1)!.command as { options: { subjects: ExperimentSubject[] } }).options.subjects
    m.answerLast({ ok: true, data: { results: [result(subjects[0]!, 19), result(subjects[1]!, 77), result(subjects[2]!, 480)], explanation: 'x' } })
    await flushPromises()
    const verdict = w.find('[data-testid=lesson-verdict]')
    expect(verdict.text()).toContain('sync 19, gthread 77, async 480 req/s')
    expect(verdict.text()).toContain('As predicted')
    expect(w.findAll('[data-testid=experiment-row]')).toHaveLength(3)
  })

  it('says so when the measurement disagrees, and shows a failed run', async () => {
    const w = mount(LessonsView, { global: { plugins: [pinia] } })
    await w.find('[data-testid=btn-lesson-blocking]').trigger('click')
    const cmd = m.sent.filter((f) => f.type === 'command').at(-1) as Extract<ClientFrame, { type: 'command' }>
    const subjects = (cmd.command as { options: { subjects: ExperimentSubject[] } }).options.subjects
    m.answerLast({ ok: true, data: { results: [result(subjects[0]!, 40), result(subjects[1]!, 41)], explanation: 'x' } })
    await flushPromises()
    expect(w.find('[data-testid=lesson-verdict]').text()).toContain('did not clearly win')
    await w.find('[data-testid=btn-lesson-keepalive]').trigger('click')
    m.answerLast({ ok: false, error: { code: 'PADDOCK_ERR_BUSY', message: 'a load test is already running; stop it first' } })
    await flushPromises()
    expect(w.text()).toContain('a load test is already running')
  })
})
