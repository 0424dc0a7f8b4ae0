/**
 * The control server keeps the recent history and replays it to a new subscriber, so a
 * new tab does not start blank; `history.get` gives the same record for export.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ControlServer } from '../../../src/server/control/control-server.js'
import { eventsCsv, historyCsv, HISTORY_REPLAY_WORKER_POINTS } from '../../../src/shared/history.js'
import type { ServerFrame } from '../../../src/shared/protocol.js'
import { fakeArbiter } from './fake-arbiter.js'

const servers: ControlServer[] = []
afterEach(() => servers.splice(0).forEach((s) => s.close()))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('history replay', () => {
  it('a client that connects later is welcomed with the points and lifecycle events it missed, not spans', async () => {
    const arbiter = fakeArbiter()
    const control = new ControlServer(arbiter, { rateHz: 50, sampleMs: 60_000, unwatchedHistoryMs: 20 })
    servers.push(control)
    arbiter.emit({ type: 'worker.spawned', at: Date.now(), pid: 11, generation: 1, workerClass: 'sync' })
    arbiter.emit({ type: 'spans', at: Date.now(), spans: [], dropped: 0 })
    arbiter.emit({ type: 'log', at: Date.now(), stream: 'access', level: 'info', pid: 11, message: 'GET /' })
    arbiter.emit({ type: 'log', at: Date.now(), stream: 'error', level: 'error', pid: 11, message: 'boom, "quoted"' })
    await sleep(300)
    const frames: ServerFrame[] = []
    const session = control.subscribe({ send: (f) => frames.push(f) })
    await session.receive({ type: 'hello', protocol: 1, client: 'test' })
    const welcome = frames.find((f) => f.type === 'welcome')
    if (welcome?.type !== 'welcome') throw new Error('no welcome')
    const h = welcome.history!
    expect(h.points.length).toBeGreaterThanOrEqual(5)
    expect(h.points.at(-1)!.perWorker?.[0]).toMatchObject({ pid: process.pid, requests: 3 })
    expect(h.points.every((p, i) => i === 0 || p.t >= h.points[i - 1]!.t)).toBe(true)
    // the worker running before the control server existed, from its snapshot; then what happened since
    expect(h.events.map((e) => e.type)).toEqual(['worker.spawned', 'worker.ready', 'worker.spawned', 'log'])
    expect(h.events[1]).toMatchObject({ pid: process.pid, bootMs: 0 })
    session.close()
  })

  it('history.get answers the same record; per-worker figures only on the newest points', async () => {
    const arbiter = fakeArbiter()
    const control = new ControlServer(arbiter, { rateHz: 1000, sampleMs: 60_000, unwatchedHistoryMs: 1 })
    servers.push(control)
    const end = Date.now() + 5000
    while (control.history().points.length < HISTORY_REPLAY_WORKER_POINTS + 20 && Date.now() < end) await sleep(50)
    const r = await control.execute({ cmd: 'history.get' })
    expect(r.ok).toBe(true)
    const data = (r as { data: ReturnType<ControlServer['history']> }).data
    expect(data.points.length).toBeGreaterThan(HISTORY_REPLAY_WORKER_POINTS)
    expect(data.points[0]!.perWorker).toBeUndefined()
    expect(data.points.at(-1)!.perWorker).toHaveLength(1)
  })
})

describe('export as CSV', () => {
  it('history: a header and one row per point, empty cells for unknown latency', () => {
    const csv = historyCsv([{ t: Date.UTC(2026, 0, 1), rps: 12.5, p50: null, p99: 3, inFlight: 1, queued: 0, queueDepth: 4, workers: 2 }])
    expect(csv.split('\r\n')).toEqual(['time,t_ms,requests_per_sec,p50_ms,p99_ms,in_flight,queued_in_workers,listen_queue,workers', '2026-01-01T00:00:00.000Z,1767225600000,12.500,,3,1,0,4,2', ''])
  })

  it('events: quotes and commas in a message are escaped (RFC 4180)', () => {
    const csv = eventsCsv([{ type: 'log', at: 0, stream: 'error', level: 'error', pid: 7, message: 'a, "b"' }])
    const row = csv.split('\r\n')[1]!
    expect(row.startsWith('1970-01-01T00:00:00.000Z,0,log,7,"a, ""b""",')).toBe(true)
  })
})

describe('events from before the control server', () => {
  it('a host that kept its start-up events hands them to a control server created later', async () => {
    const arbiter = Object.assign(fakeArbiter(), {
      recentEvents: () => [{ type: 'worker.ready' as const, at: 1, pid: 9, generation: 1, bootMs: 20 }],
    })
    const control = new ControlServer(arbiter, { rateHz: 10, sampleMs: 60_000 })
    servers.push(control)
    arbiter.emit({ type: 'worker.spawned', at: 2, pid: 10, generation: 1, workerClass: 'sync' })
    expect(control.history().events.map((e) => e.type)).toEqual(['worker.ready', 'worker.spawned'])
  })
})
