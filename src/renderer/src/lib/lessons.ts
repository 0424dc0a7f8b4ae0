/**
 * Guided lessons: each states a prediction from the queueing model, runs one or more
 * experiments on the live server, and judges the prediction against the measured numbers.
 */
import type { ControlCommand, ExperimentOptions, ExperimentResult } from '@shared/protocol'

export interface LessonStep {
  label: string
  experiment: ExperimentOptions
}

export interface LessonOutcome {
  steps: { label: string; results: ExperimentResult[]; explanation: string }[]
  /** workers that exited for max-requests while the lesson ran */
  recycled: number
  /** workers that began to drain for max-requests (their exit may come after the run) */
  recyclingStarted?: number
  /** the CPUs of the machine the server runs on, when the snapshot says */
  cores?: number | null
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

const MAX_REQUESTS_LESSON = 300

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
      'Each /cpu?ms=20 request burns 20 ms of CPU, so one busy worker serves at most 1 / 0.02 s = 50 req/s. Two limits can cap the total: the workers (each runs one request at a time) and the cores (no model creates CPU). Step 1 varies the workers with the class fixed: the total grows with the workers until it reaches the cores, then stays. Step 2 varies the class at 2 workers: all classes land near the same rate.',
    steps: [
      {
        label: 'step 1: sync with 1, 2 and 4 workers (vary one limit)',
        experiment: {
          load: { url: '/cpu?ms=20', connections: 8, duration: 4, keepAlive: true },
          subjects: [
            { workerClass: 'sync', workers: 1 },
            { workerClass: 'sync', workers: 2 },
            { workerClass: 'sync', workers: 4 },
          ],
        },
      },
      {
        label: 'step 2: sync vs gthread vs async, 2 workers each',
        experiment: {
          load: { url: '/cpu?ms=20', connections: 8, duration: 4, keepAlive: true },
          subjects: [
            { workerClass: 'sync', workers: 2 },
            { workerClass: 'gthread', workers: 2, threads: 4 },
            { workerClass: 'async', workers: 2 },
          ],
        },
      },
    ],
    verdict(o) {
      const [w1, w2, w4] = o.steps[0]!.results.map(rps) as [number, number, number]
      const cores = o.cores ?? null
      const limit =
        w4 > w2 * 1.3
          ? `4 workers beat 2 (${f(w2)} → ${f(w4)} req/s): here the workers were the limit, not the cores${cores ? ` (${cores} of them)` : ''}.`
          : w2 > w1 * 1.4
            ? `1 → 2 workers raised it (${f(w1)} → ${f(w2)} req/s), 4 did not (${f(w4)}): past 2 the cores${cores ? ` (${cores})` : ''} are the limit, so 2 workers were already using them.`
            : `More workers did not raise it (${f(w1)}, ${f(w2)}, ${f(w4)} req/s): the CPUs were the limit from 1 worker on (a busy machine, or the load generator sharing the cores).`
      const rs = o.steps[1]!.results
      const rates = rs.map(rps)
      const ok = Math.min(...rates) > 0 && Math.max(...rates) / Math.min(...rates) < 2
      const a = byClass(rs, 'async')
      const sy = byClass(rs, 'sync')
      const p99 =
        a && sy
          ? ` async's p99 (${a.result.latency.p99} ms, sync ${sy.result.latency.p99} ms): an async worker accepts every connection offered (8 over 2 workers, 4 each) and runs their CPU work one after another on one loop, so the last one waits about 4 × 20 ms; sync leaves the waiting connections in the kernel queue for whichever worker is free first.`
          : ''
      return {
        ok,
        text: `Step 1: ${limit} Step 2: ${rs.map((r) => `${r.subject.workerClass} ${f(rps(r))}`).join(', ')} req/s, ${ok ? 'all within 2× of each other: the class does not create CPU.' : 'one class stood out: look at the CPU column of the workers.'}${p99}`,
      }
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
    setup: [{ cmd: 'config.set', name: 'max_requests', value: MAX_REQUESTS_LESSON }],
    teardown: [{ cmd: 'config.set', name: 'max_requests', value: 0 }],
    steps: [{ label: 'sync, 2 workers, 5 s on /', experiment: { load: { url: '/', connections: 10, duration: 5, keepAlive: true }, subjects: [{ workerClass: 'sync', workers: 2 }] } }],
    verdict(o) {
      const r = o.steps[0]!.results[0]!.result
      const errors = Object.values(r.errors).reduce((a, b) => a + b, 0)
      const started = Math.max(o.recycled, o.recyclingStarted ?? o.recycled)
      // each worker life serves 300 requests; the last life of each of the 2 workers is cut short by the end of the run
      const expected = Math.floor(r.requests / MAX_REQUESTS_LESSON)
      const low = Math.max(0, expected - 2)
      const ok = started > 0 && errors === 0
      const why =
        started >= low
          ? `That is the count expected: ${r.requests} requests / ${MAX_REQUESTS_LESSON} per worker life = ${expected}, less up to one per worker for the lives the run's end cut short.`
          : `Fewer than the ${expected} expected (${r.requests} / ${MAX_REQUESTS_LESSON}): a worker counts a request when it completes, and with a sync worker's Connection: close and a replacement booting (~0.1-0.3 s) before the old one drains, the last lives of the run end before reaching ${MAX_REQUESTS_LESSON}; exits still under way when the run ended are counted in "began".`
      return {
        ok,
        text: `Measured: ${r.requests} requests, ${o.recycled} workers recycled (${started} began recycling), ${errors} failed requests. ${why} ${ok ? 'Recycling without a single failure, as predicted.' : started === 0 ? 'No worker reached its limit: run longer.' : 'Some requests failed while recycling.'}`,
      }
    },
  },
]
