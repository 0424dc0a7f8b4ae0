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

describe('lesson verdicts explain themselves', () => {
  const lesson = (id: string) => LESSONS.find((l) => l.id === id)!
  const step = (label: string, results: ExperimentResult[]) => ({ label, results, explanation: '' })

  it('the CPU lesson varies one limit so a student can tell workers from cores, and explains async\'s long p99', () => {
    const cpu = lesson('cpu')
    expect(cpu.steps).toHaveLength(2)
    expect(cpu.steps[0]!.experiment.subjects.map((s) => `${s.workerClass}×${s.workers}`)).toEqual(['sync×1', 'sync×2', 'sync×4'])
    const async = result({ workerClass: 'async', workers: 2 }, 95)
    async.result.latency.p99 = 85
    const v = cpu.verdict({
      recycled: 0,
      cores: 2,
      steps: [
        step('1', [result({ workerClass: 'sync', workers: 1 }, 48), result({ workerClass: 'sync', workers: 2 }, 94), result({ workerClass: 'sync', workers: 4 }, 97)]),
        step('2', [result({ workerClass: 'sync', workers: 2 }, 94), result({ workerClass: 'gthread', workers: 2, threads: 4 }, 92), async]),
      ],
    })
    expect(v.text).toContain('1 → 2 workers raised it (48 → 94 req/s), 4 did not (97): past 2 the cores (2) are the limit')
    expect(v.text).toMatch(/async's p99 \(85 ms.*one after another on one loop/)
    expect(v.ok).toBe(true)
    // on a machine with more cores, the workers are the limit
    const more = cpu.verdict({ recycled: 0, cores: 8, steps: [step('1', [result({ workerClass: 'sync', workers: 1 }, 48), result({ workerClass: 'sync', workers: 2 }, 95), result({ workerClass: 'sync', workers: 4 }, 190)]), step('2', [result({ workerClass: 'sync', workers: 2 }, 95)])] })
    expect(more.text).toContain('here the workers were the limit, not the cores (8 of them)')
  })

  it('the max-requests lesson shows the expected count and why the measured one differs', () => {
    const v = lesson('max-requests').verdict({ recycled: 10, recyclingStarted: 12, steps: [step('1', [result({ workerClass: 'sync', workers: 2 }, 6956)])] })
    expect(v.text).toContain('6956 requests, 10 workers recycled (12 began recycling)')
    expect(v.text).toContain('Fewer than the 23 expected (6956 / 300)')
    const near = lesson('max-requests').verdict({ recycled: 21, recyclingStarted: 22, steps: [step('1', [result({ workerClass: 'sync', workers: 2 }, 6956)])] })
    expect(near.text).toContain('That is the count expected: 6956 requests / 300 per worker life = 23')
  })
})

describe('what is running', () => {
  it('a running lesson shows the subject under test, which of how many, and the time left', async () => {
    const w = mount(LessonsView, { global: { plugins: [pinia] } })
    await w.find('[data-testid=btn-lesson-io]').trigger('click')
    const r = result({ workerClass: 'gthread', workers: 2, threads: 4 }, 10).result
    m.push({ type: 'event', event: { type: 'load.progress', at: 1, load: { ...r, running: true, remainingSec: 3.2, options: { url: '/io?ms=100', connections: 50, duration: 5, keepAlive: true }, experiment: { subject: { workerClass: 'gthread', workers: 2, threads: 4 }, index: 1, of: 3 } } } })
    await flushPromises()
    expect(w.get('[data-testid=experiment-status]').text()).toMatch(/running \/io\?ms=100 on gthread, 2 workers × 4 threads \(subject 2 of 3\) · 4 s left/)
  })
})
