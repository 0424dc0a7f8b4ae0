/**
 * Guided lessons: each states a prediction from the queueing model, runs one or more
 * experiments on the live server, and judges the prediction against the measured numbers.
 */
import type { ControlCommand, ExperimentOptions, ExperimentResult } from '../../../shared/protocol'

export interface LessonStep {
  label: string
  experiment: ExperimentOptions
}

export interface LessonOutcome {
  steps: { label: string; results: ExperimentResult[]; explanation: string }[]
  /** workers that exited for max-requests while the lesson ran */
  recycled: number
}

export interface Lesson {
  id: string
  title: string
  prediction: string
  setup?: ControlCommand[]
  teardown?: ControlCommand[]
  steps: LessonStep[]
  verdict(o: LessonOutcome): { ok: boolean; text: string }
}

export const rps = (r: ExperimentResult) => r.result.requests / Math.max(0.001, (r.result.finishedAt - r.result.startedAt) / 1000)
const f = (n: number) => n.toFixed(n < 10 ? 1 : 0)
const byClass = (rs: ExperimentResult[], c: string) => rs.find((r) => r.subject.workerClass === c)

export const LESSONS: Lesson[] = [
  {
    id: 'io',
    title: 'I/O-bound requests',
    prediction:
      'Each /io?ms=100 request waits 100 ms without using the CPU. sync (2 workers) serves at most 2 / 0.1 s = 20 req/s; gthread (2 × 4 threads) 80 req/s; async keeps all 50 connections waiting at once: up to 500 req/s.',
    steps: [
      {
        label: 'sync vs gthread vs async on /io?ms=100',
        experiment: {
          load: { url: '/io?ms=100', connections: 50, duration: 5, keepAlive: true },
          subjects: [
            { workerClass: 'sync', workers: 2 },
            { workerClass: 'gthread', workers: 2, threads: 4 },
            { workerClass: 'async', workers: 2 },
          ],
        },
      },
    ],
    verdict(o) {
      const rs = o.steps[0]!.results
      const s = rps(byClass(rs, 'sync')!)
      const g = rps(byClass(rs, 'gthread')!)
      const a = rps(byClass(rs, 'async')!)
      const ok = a > g && g > s
      return { ok, text: `Measured: sync ${f(s)}, gthread ${f(g)}, async ${f(a)} req/s. ${ok ? 'As predicted: async ≫ gthread > sync, each near its cap.' : 'Not the predicted order: is the machine busy with something else?'}` }
    },
  },
  {
    id: 'cpu',
    title: 'CPU-bound requests',
    prediction:
      'Each /cpu?ms=20 request burns 20 ms of CPU. No worker model creates cores: with 2 workers, every class is capped near 2 / 0.02 s = 100 req/s (fewer on a busy machine), and extra threads only add waiting.',
    steps: [
      {
        label: 'sync vs gthread vs async on /cpu?ms=20',
        experiment: {
          load: { url: '/cpu?ms=20', connections: 8, duration: 5, keepAlive: true },
          subjects: [
            { workerClass: 'sync', workers: 2 },
            { workerClass: 'gthread', workers: 2, threads: 4 },
            { workerClass: 'async', workers: 2 },
          ],
        },
      },
    ],
    verdict(o) {
      const rs = o.steps[0]!.results.map(rps)
      const max = Math.max(...rs)
      const min = Math.min(...rs)
      const ok = min > 0 && max / min < 2
      return { ok, text: `Measured: ${o.steps[0]!.results.map((r) => `${r.subject.workerClass} ${f(rps(r))}`).join(', ')} req/s. ${ok ? 'As predicted: all within 2× of each other, bounded by the cores.' : 'One class stood out: look at the p99 and the CPU column of the workers.'}` }
    },
  },
  {
    id: 'blocking',
    title: 'A blocking call in async',
    prediction:
      '/block?ms=50 blocks its thread synchronously (a blocking driver call). An async worker cannot serve anything else meanwhile: 2 workers give at most 2 / 0.05 s = 40 req/s. gthread runs 4 such calls per worker in parallel: 160 req/s.',
    steps: [
      {
        label: 'async vs gthread on /block?ms=50',
        experiment: {
          load: { url: '/block?ms=50', connections: 20, duration: 5, keepAlive: true },
          subjects: [
            { workerClass: 'async', workers: 2 },
            { workerClass: 'gthread', workers: 2, threads: 4 },
          ],
        },
      },
    ],
    verdict(o) {
      const rs = o.steps[0]!.results
      const a = rps(byClass(rs, 'async')!)
      const g = rps(byClass(rs, 'gthread')!)
      const ok = g > a * 1.5
      return { ok, text: `Measured: async ${f(a)}, gthread ${f(g)} req/s. ${ok ? 'As predicted: the blocking call stalls the event loop; threads run it in parallel.' : 'gthread did not clearly win: with 2 cores, CPU contention can hide the effect.'}` }
    },
  },
  {
    id: 'keepalive',
    title: 'Keep-alive',
    prediction:
      'Opening a TCP connection per request costs a handshake and an accept. With keep-alive the same connections carry request after request: higher throughput on a cheap endpoint such as /.',
    steps: [
      { label: 'async, keep-alive on', experiment: { load: { url: '/', connections: 20, duration: 4, keepAlive: true }, subjects: [{ workerClass: 'async', workers: 2 }] } },
      { label: 'async, keep-alive off', experiment: { load: { url: '/', connections: 20, duration: 4, keepAlive: false }, subjects: [{ workerClass: 'async', workers: 2 }] } },
    ],
    verdict(o) {
      const on = rps(o.steps[0]!.results[0]!)
      const off = rps(o.steps[1]!.results[0]!)
      const ok = on > off
      return { ok, text: `Measured: ${f(on)} req/s with keep-alive, ${f(off)} without (${f(on / Math.max(1, off))}×). ${ok ? 'As predicted.' : 'No gain measured this time.'}` }
    },
  },
  {
    id: 'slow-client',
    title: 'A slow client',
    prediction:
      '/stream?chunks=10&ms=100 takes one second to send, like a client on a slow link. A sync worker is held for the whole second: 2 workers serve about 2 req/s. async interleaves all 20 slow responses: about 20 req/s.',
    steps: [
      {
        label: 'sync vs async with slow responses',
        experiment: {
          load: { url: '/stream?chunks=10&ms=100', connections: 20, duration: 5, keepAlive: true },
          subjects: [
            { workerClass: 'sync', workers: 2 },
            { workerClass: 'async', workers: 2 },
          ],
        },
      },
    ],
    verdict(o) {
      const rs = o.steps[0]!.results
      const s = rps(byClass(rs, 'sync')!)
      const a = rps(byClass(rs, 'async')!)
      const ok = a > s * 3
      return { ok, text: `Measured: sync ${f(s)}, async ${f(a)} req/s. ${ok ? 'As predicted: slow clients belong behind an async worker (or a buffering proxy in front of sync).' : 'The gap is smaller than predicted.'}` }
    },
  },
  {
    id: 'max-requests',
    title: 'max-requests recycling',
    prediction:
      'With --max-requests 300, each worker is replaced after about 300 requests (a cure for slow leaks). paddock spawns the replacement before the old worker drains, so no request fails while workers recycle.',
    setup: [{ cmd: 'config.set', name: 'max_requests', value: 300 }],
    teardown: [{ cmd: 'config.set', name: 'max_requests', value: 0 }],
    steps: [{ label: 'sync, 2 workers, 5 s on /', experiment: { load: { url: '/', connections: 10, duration: 5, keepAlive: true }, subjects: [{ workerClass: 'sync', workers: 2 }] } }],
    verdict(o) {
      const r = o.steps[0]!.results[0]!.result
      const errors = Object.values(r.errors).reduce((a, b) => a + b, 0)
      const ok = o.recycled > 0 && errors === 0
      return { ok, text: `Measured: ${r.requests} requests, ${o.recycled} workers recycled, ${errors} failed requests. ${ok ? 'As predicted: recycling without a single failure.' : o.recycled === 0 ? 'No worker reached its limit: run longer.' : 'Some requests failed while recycling.'}` }
    },
  },
]
