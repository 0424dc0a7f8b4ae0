import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { PROTOCOL_VERSION } from '../../src/shared/protocol'
import { wire } from '../../src/renderer/src/stores/wire'
import { useConnectionStore } from '../../src/renderer/src/stores/connection'
import { useHistoryStore, HISTORY_POINTS } from '../../src/renderer/src/stores/history'
import { useEventsStore, MAX_EVENTS } from '../../src/renderer/src/stores/events'
import { useActionsStore } from '../../src/renderer/src/stores/actions'
import { useTimelineStore } from '../../src/renderer/src/stores/timeline'
import { useLoadStore } from '../../src/renderer/src/stores/loadtest'
import { memoryTransport, snapshot, worker } from './helpers'

let m: ReturnType<typeof memoryTransport>

beforeEach(() => {
  setActivePinia(createPinia())
  m = memoryTransport()
  wire(m.transport)
})

describe('connection', () => {
  it('says hello with the protocol version and token, and opens on welcome', () => {
    expect(m.sent[0]).toEqual({ type: 'hello', protocol: PROTOCOL_VERSION, client: 'paddock-dashboard/websocket', token: 't0ken' })
    const conn = useConnectionStore()
    expect(conn.status).toBe('connecting')
    m.push({ type: 'welcome', protocol: PROTOCOL_VERSION, snapshot: snapshot(), settings: [] })
    expect(conn.status).toBe('open')
    expect(conn.snapshot?.pid).toBe(42)
  })

  it('shows a protocol error from the server', () => {
    m.push({ type: 'error', error: { code: 'PADDOCK_ERR_PROTOCOL', message: 'client speaks protocol 2, this server 1' } })
    expect(useConnectionStore().fatal?.code).toBe('PADDOCK_ERR_PROTOCOL')
  })

  it('fails pending commands when the connection drops, instead of leaving them hanging', async () => {
    const pending = useConnectionStore().command({ cmd: 'reload' })
    m.drop('server went away')
    expect(await pending).toEqual({ ok: false, error: { code: 'PADDOCK_ERR_INTERNAL', message: 'connection lost: server went away' } })
  })

  it('times out a command nobody answers, but only after minutes (a slow one is still shown as under way)', async () => {
    vi.useFakeTimers()
    try {
      const pending = useConnectionStore().command({ cmd: 'workers.add', count: 1 })
      let settled = false
      void pending.then(() => (settled = true))
      await vi.advanceTimersByTimeAsync(16_000)
      expect(settled).toBe(false)
      vi.advanceTimersByTime(10 * 60_000)
      expect(await pending).toMatchObject({ ok: false, error: { message: expect.stringContaining('no answer') } })
    } finally {
      vi.useRealTimers()
    }
  })

  it('onSnapshot and onEvent return a function that stops the listener, and wire() undoes itself', () => {
    const conn = useConnectionStore()
    const seen: string[] = []
    const offSnapshot = conn.onSnapshot((s) => seen.push(`snapshot ${s.pid}`))
    const offEvent = conn.onEvent((e) => seen.push(`event ${e.type}`))
    m.push({ type: 'snapshot', snapshot: snapshot({ pid: 7 }) })
    m.push({ type: 'event', event: { type: 'worker.ready', at: 2, pid: 5, generation: 1, bootMs: 80 } })
    offSnapshot()
    offEvent()
    m.push({ type: 'snapshot', snapshot: snapshot({ pid: 8 }) })
    m.push({ type: 'event', event: { type: 'worker.ready', at: 3, pid: 6, generation: 1, bootMs: 80 } })
    expect(seen).toEqual(['snapshot 7', 'event worker.ready'])

    // a second wiring over the same stores, then undone: each event is listed once, by the first wiring only
    const ev = useEventsStore()
    const unwire = wire(m.transport)
    const before = ev.events.length
    unwire()
    m.push({ type: 'event', event: { type: 'worker.ready', at: 4, pid: 9, generation: 1, bootMs: 80 } })
    expect(ev.events.length).toBe(before + 1)
  })

})

describe('actions', () => {
  it('records each action while it runs, then its result or its error', async () => {
    const actions = useActionsStore()
    const p = actions.run('add a worker (TTIN)', { cmd: 'workers.add', count: 1 })
    expect(actions.list[0]).toMatchObject({ state: 'running', cmd: 'workers.add' })
    expect(actions.isPending('workers.add')).toBe(true)
    expect(m.answerLast({ ok: true, message: 'target workers: 3' })).toEqual({ cmd: 'workers.add', count: 1 })
    await p
    expect(actions.list[0]).toMatchObject({ state: 'ok', message: 'target workers: 3' })
    expect(actions.isPending('workers.add')).toBe(false)

    const q = actions.run('kill 7', { cmd: 'workers.kill', pid: 7 })
    m.answerLast({ ok: false, error: { code: 'PADDOCK_ERR_NO_SUCH_WORKER', message: 'no live worker with pid 7' } })
    await q
    expect(actions.list[0]).toMatchObject({ state: 'error', message: 'no live worker with pid 7 (PADDOCK_ERR_NO_SUCH_WORKER)' })
  })
})

describe('history', () => {
  it('computes per-worker request rates between snapshots and keeps a bounded ring', () => {
    const h = useHistoryStore()
    m.push({ type: 'snapshot', snapshot: snapshot({ at: 1000, workers: [worker({ pid: 7, requests: 10 })] }) })
    m.push({ type: 'snapshot', snapshot: snapshot({ at: 1500, workers: [worker({ pid: 7, requests: 60, inFlight: 2 })] }) })
    const pts = h.workerSeries(7)
    expect(pts.map((p) => p.rps)).toEqual([0, 100])
    expect(h.series().at(-1)).toMatchObject({ inFlight: 2, queueDepth: 3, workers: 1 })
    for (let i = 0; i < HISTORY_POINTS + 10; i++) m.push({ type: 'snapshot', snapshot: snapshot({ at: 2000 + i * 250 }) })
    expect(h.size()).toBe(HISTORY_POINTS)
    // at 4 Hz the ring holds at least 10 minutes
    expect(HISTORY_POINTS / 4).toBeGreaterThanOrEqual(600)
  })

  it('starts afresh when another arbiter answers', () => {
    const h = useHistoryStore()
    m.push({ type: 'snapshot', snapshot: snapshot({ pid: 1 }) })
    m.push({ type: 'snapshot', snapshot: snapshot({ pid: 1 }) })
    m.push({ type: 'snapshot', snapshot: snapshot({ pid: 2 }) })
    expect(h.size()).toBe(1)
  })
})

describe('events', () => {
  it('describes lifecycle events, tracks each worker life, and caps the list', () => {
    const ev = useEventsStore()
    m.push({ type: 'event', event: { type: 'worker.spawned', at: 1, pid: 5, generation: 2, workerClass: 'sync' } })
    m.push({ type: 'event', event: { type: 'worker.ready', at: 2, pid: 5, generation: 2, bootMs: 80 } })
    m.push({ type: 'event', event: { type: 'worker.timeout', at: 3, pid: 5, generation: 2, silentMs: 31000, request: { method: 'GET', url: '/block?ms=60000', startedAt: 0 } } })
    m.push({ type: 'event', event: { type: 'worker.exited', at: 4, pid: 5, generation: 2, code: null, signal: 'SIGABRT', reason: 'WORKER TIMEOUT', expected: false } })
    expect(ev.events.map((e) => e.text)).toEqual([
      'worker 5 exited (signal SIGABRT): WORKER TIMEOUT',
      'worker 5 timed out after 31.0 s silent, stuck in GET /block?ms=60000',
      'worker 5 ready in 80 ms',
      'worker 5 spawned (generation 2, sync)',
    ])
    expect(ev.events[0]!.severity).toBe('error')
    expect(ev.lives.get(5)).toMatchObject({ spawnedAt: 1, readyAt: 2, exitedAt: 4, expected: false })
    for (let i = 0; i < MAX_EVENTS + 50; i++) m.push({ type: 'event', event: { type: 'worker.booted', at: 10 + i, pid: 6, generation: 2 } })
    expect(ev.events.length).toBe(MAX_EVENTS)
  })

  it('a worker spawned before the dashboard connected gets its whole life from the snapshot, not just its drain', () => {
    const ev = useEventsStore()
    m.push({ type: 'welcome', protocol: PROTOCOL_VERSION, settings: [], snapshot: snapshot({ workers: [worker({ pid: 7, spawnedAt: 100, readyAt: 300 })] }) })
    m.push({ type: 'event', event: { type: 'worker.draining', at: 9000, pid: 7, generation: 1, reason: 'replaced by generation 2' } })
    m.push({ type: 'event', event: { type: 'worker.exited', at: 9500, pid: 7, generation: 1, code: 0, signal: null, reason: 'replaced by generation 2', expected: true } })
    expect(ev.lives.get(7)).toMatchObject({ spawnedAt: 100, readyAt: 300, drainingAt: 9000, exitedAt: 9500 })
    // an exited worker the dashboard never saw alive is not invented from a snapshot
    m.push({ type: 'snapshot', snapshot: snapshot({ workers: [worker({ pid: 8, state: 'exited' })] }) })
    expect(ev.lives.has(8)).toBe(false)
  })

  it('pausing freezes what is shown while new lines keep arriving; filters apply', () => {
    const ev = useEventsStore()
    const log = (message: string, stream: 'error' | 'access' = 'error') =>
      m.push({ type: 'event', event: { type: 'log', at: 1, stream, level: 'info', pid: 9, message } })
    log('Booting worker')
    ev.setPaused(true)
    log('GET / 200', 'access')
    log('GET /io 200', 'access')
    expect(ev.shownLogs.map((l) => l.message)).toEqual(['Booting worker'])
    expect(ev.waiting).toBe(2)
    ev.setPaused(false)
    expect(ev.shownLogs).toHaveLength(3)
    ev.logStream = 'access'
    ev.filter = '/io'
    expect(ev.shownLogs.map((l) => l.message)).toEqual(['GET /io 200'])
  })

  it('filters the logs by worker, offering the pids that wrote lines', () => {
    const ev = useEventsStore()
    const log = (pid: number, message: string) => m.push({ type: 'event', event: { type: 'log', at: 1, stream: 'error', level: 'info', pid, message } })
    log(30, 'hello from 30')
    log(12, 'hello from 12')
    log(30, 'again 30')
    expect(ev.logPids).toEqual([12, 30])
    ev.logPid = 30
    expect(ev.shownLogs.map((l) => l.message)).toEqual(['again 30', 'hello from 30'])
    ev.logPid = null
    expect(ev.shownLogs).toHaveLength(3)
  })
})

describe('timeline and load', () => {
  it('keeps spans, and computes Little\'s law from the arrival rate and the mean time in system', () => {
    const tl = useTimelineStore()
    const now = Date.now()
    m.push({
      type: 'event',
      event: { type: 'spans', at: now, dropped: 5, spans: [0, 1, 2, 3].map((i) => ({ pid: 7, generation: 1, thread: 0, method: 'GET', path: '/io', status: 200, start: now - 500 + i, durationMs: 100 })) },
    })
    m.push({ type: 'snapshot', snapshot: snapshot({ at: now, rates: { requestsPerSec: 50, p50Ms: 100, p99Ms: 100 }, workers: [worker({ pid: 7, inFlight: 4, queued: 1 })] }) })
    expect(tl.spans).toHaveLength(4)
    expect(tl.dropped).toBe(5)
    // W: 100 ms of service plus the listen-queue wait, 3 waiting at 50 req/s = 60 ms
    expect(tl.serviceSec).toBeCloseTo(0.1)
    expect(tl.meanSec).toBeCloseTo(0.16)
    expect(tl.littleL).toBeCloseTo(8)
    // running + queued in the worker + the listen queue of the snapshot (3)
    expect(tl.inFlight).toBe(4)
    expect(tl.inSystem).toBe(8)
  })

  it('follows load progress events to the result, and shows a refused start', async () => {
    const load = useLoadStore()
    const start = load.start({ url: '/', connections: 1, amount: 5, keepAlive: true })
    m.answerLast({ ok: false, error: { code: 'PADDOCK_ERR_BUSY', message: 'a load test is already running; stop it first' } })
    expect(await start).toBe(false)
    expect(load.error).toContain('already running')
    const base = { id: 1, options: { url: '/', connections: 1, amount: 5, keepAlive: true }, startedAt: 0, progress: 0.5, elapsedSec: 1, remainingSec: 1, requests: 3, requestsPerSec: 3, latency: { p50: 1, p90: 1, p99: 1, max: 1, mean: 1 }, errors: { refused: 0, reset: 0, timeout: 0, non2xx: 0, other: 0 }, perSecond: [], histogram: [], running: true }
    m.push({ type: 'event', event: { type: 'load.progress', at: 1, load: base } })
    expect(load.progress?.requests).toBe(3)
    m.push({ type: 'event', event: { type: 'load.done', at: 2, result: { ...base, requests: 5, running: false, progress: 1, finishedAt: 2, statusCodes: { 200: 5 }, stoppedEarly: false } } })
    expect(load.progress).toBeNull()
    expect(load.result?.requests).toBe(5)
    // a progress message of that run arriving late does not bring it back
    m.push({ type: 'event', event: { type: 'load.progress', at: 3, load: base } })
    expect(load.progress).toBeNull()
  })
})
