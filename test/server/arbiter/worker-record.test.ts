/**
 * A worker's record: what its messages and its exit change on it and what they tell the
 * arbiter to do next; and what the snapshot says it is running (the requests in flight at
 * its last heartbeat, and the request it last announced only once it has fallen silent:
 * announced requests have usually finished long before the next heartbeat clears them).
 * Imports src/ and forks nothing.
 */
import { describe, expect, it } from 'vitest'
import { createWorkerRecord, recordExit, recordMessage, retire, workerSnapshot, type WorkerRecord } from '../../../src/server/arbiter/worker-record.js'
import { STABLE_AFTER_MS } from '../../../src/server/arbiter/backoff.js'

type Record = Parameters<typeof workerSnapshot>[0]

function record(p: { lastHeartbeat: number; inFlightAtBeat: number; inFlight?: { method: string; url: string; startedAt: number }[]; lastStarted?: { method: string; url: string; startedAt: number } | null }): Record {
  return {
    pid: 1, id: 1, workerClass: 'async', generation: 1, state: 'ready', spawnedAt: 0, readyAt: 0,
    stats: { requests: 10, inFlight: p.inFlightAtBeat, queued: 0, connections: 1, upgraded: 0, threadsBusy: 1, threadsTotal: 1, loopLagMs: 0, completed: 0, durations: [], latency: { counts: [], sumMs: 0 } },
    inFlight: p.inFlight ?? [], lastStarted: p.lastStarted ?? null, lastHeartbeat: p.lastHeartbeat, traits: { shedsConnections: true, connectionCap: 1000 },
    exitCode: null, exitSignal: null, reason: null,
  } as unknown as Record
}

describe('the request a worker is shown running', () => {
  it('is one in flight at the last heartbeat; a request announced since counts only once the worker is silent', () => {
    const now = Date.now()
    const announced = { method: 'GET', url: '/fast', startedAt: now - 100 }
    const held = { method: 'GET', url: '/io?ms=5000', startedAt: now - 3000 }
    // fresh heartbeat, nothing in flight then: the announced request is not "running"
    expect(workerSnapshot(record({ lastHeartbeat: now - 50, inFlightAtBeat: 0, lastStarted: announced })).oldestRequest).toBeUndefined()
    // fresh heartbeat with a request in flight: that one, not the announced one
    expect(workerSnapshot(record({ lastHeartbeat: now - 50, inFlightAtBeat: 1, inFlight: [held], lastStarted: announced })).oldestRequest?.url).toBe('/io?ms=5000')
    const blocking = { method: 'GET', url: '/block?ms=60000', startedAt: now - 2000 }
    // silent for 2 s: what it announced last is what it is most likely stuck in
    expect(workerSnapshot(record({ lastHeartbeat: now - 2000, inFlightAtBeat: 1, inFlight: [], lastStarted: blocking })).oldestRequest?.url).toBe('/block?ms=60000')
    // ...also when it was idle at its last heartbeat and the request came after
    expect(workerSnapshot(record({ lastHeartbeat: now - 2000, inFlightAtBeat: 0, lastStarted: blocking })).oldestRequest?.url).toBe('/block?ms=60000')
  })
})

/** a record as the arbiter has it right after the fork */
function booting(pid = 4242, spawnedAt = 1000): WorkerRecord {
  const w = createWorkerRecord({ id: 1, generation: 3, workerClass: 'async', slot: 0 })
  Object.assign(w, { pid, state: 'booting', spawnedAt })
  return w
}

const stats = { requests: 7, inFlight: 0, queued: 0, connections: 2, upgraded: 0, threadsBusy: 0, threadsTotal: 1, loopLagMs: 0, completed: 3, durations: [1, 2, 3], shedding: 0, latency: { counts: [], sumMs: 0 } }

describe('a worker message applied to its record', () => {
  it('ready: the record is ready once, and the arbiter is told to log, emit worker.ready with the boot time, and run its loop', () => {
    const w = booting()
    const next = recordMessage(w, { t: 'ready', traits: { shedsConnections: true, connectionCap: 1000 } }, 1250)
    expect(w).toMatchObject({ state: 'ready', readyAt: 1250, lastHeartbeat: 1250, traits: { shedsConnections: true } })
    expect(next).toEqual({
      ready: true,
      tick: true,
      log: { level: 'debug', message: 'Worker ready (pid: 4242) in 250 ms' },
      events: [{ type: 'worker.ready', at: 1250, pid: 4242, generation: 3, bootMs: 250 }],
    })
    // a second ready (or one from a worker already draining) changes nothing
    expect(recordMessage(w, { t: 'ready' }, 2000)).toEqual({ ready: false, tick: false, log: null, events: [] })
    expect(w.readyAt).toBe(1250)
  })

  it('hb: keeps the figures, clears the announced request, and passes spans on only when there are some', () => {
    const w = booting()
    recordMessage(w, { t: 'ready' }, 1100)
    recordMessage(w, { t: 'req', request: { method: 'GET', url: '/slow', startedAt: 1150 }, nextInMs: 250 }, 1150)
    expect(w.lastStarted?.url).toBe('/slow')
    const quiet = recordMessage(w, { t: 'hb', stats, inFlight: [], spans: [], droppedSpans: 0, nextInMs: 250 }, 1300)
    expect(quiet.events).toEqual([])
    expect(w).toMatchObject({ stats, lastHeartbeat: 1300, beatEveryMs: 250, lastStarted: null })
    const span = { pid: 4242, generation: 3, thread: 0, method: 'GET', path: '/', status: 200, start: 1200, durationMs: 5 }
    const busy = recordMessage(w, { t: 'hb', stats, inFlight: [], spans: [span], droppedSpans: 2, nextInMs: 250 }, 1550)
    expect(busy.events).toEqual([{ type: 'spans', at: 1550, spans: [span], dropped: 2 }])
    // idle: the beat slows down, the figures stay those of the last hb
    recordMessage(w, { t: 'alive', nextInMs: 5000 }, 2000)
    expect(w).toMatchObject({ stats, lastHeartbeat: 2000, beatEveryMs: 5000 })
  })

  it('retire: a ready worker retires once (its replacement is spawned first); one still booting does not', () => {
    const early = booting(1)
    expect(recordMessage(early, { t: 'retire', requests: 100 }, 1100)).toMatchObject({ tick: false, log: null })
    expect(early.retiring).toBe(false)
    const w = booting(2)
    recordMessage(w, { t: 'ready' }, 1100)
    const next = recordMessage(w, { t: 'retire', requests: 100 }, 1200)
    expect(next).toMatchObject({ tick: true, log: { level: 'info', message: 'Worker 2 reached max requests (100): starting its replacement first' } })
    expect(w).toMatchObject({ retiring: true, reason: 'max requests reached (100)' })
    expect(recordMessage(w, { t: 'retire', requests: 101 }, 1300).tick).toBe(false)
    expect(retire(w, 'memory')).toBe(false)
    expect(w.reason).toBe('max requests reached (100)')
  })

  it("log lines keep the worker's pid; access lines go to the control stream", () => {
    const w = booting()
    expect(recordMessage(w, { t: 'log', level: 'warning', message: 'careful' }, 1).log).toEqual({ level: 'warning', message: 'careful', pid: 4242 })
    expect(recordMessage(w, { t: 'access', line: 'GET / 200' }, 5).events).toEqual([{ type: 'log', at: 5, stream: 'access', level: 'info', pid: 4242, message: 'GET / 200' }])
  })
})

describe('an exit recorded on the record', () => {
  it('a boot error names the exit, which counts toward a crash loop', async () => {
    const w = booting()
    expect(recordMessage(w, { t: 'boot-error', error: 'Cannot find module x' }, 1100).log).toEqual({ level: 'error', message: 'Worker 4242 failed to boot: Cannot find module x' })
    const exit = recordExit(w, 4, null, 1200)
    expect(exit).toEqual({
      reason: 'boot failed: Cannot find module x',
      event: { type: 'worker.exited', at: 1200, pid: 4242, generation: 3, code: 4, signal: null, reason: 'boot failed: Cannot find module x', expected: false },
      log: { level: 'warning', message: 'Worker (pid: 4242) exited unexpectedly: boot failed: Cannot find module x' },
      crash: {},
    })
    expect(w).toMatchObject({ state: 'exited', exitCode: 4, exitSignal: null, reason: 'boot failed: Cannot find module x' })
    await w.gone
  })

  it('a drained worker exits as expected and does not count; one killed soon after ready does, with how long it was up', () => {
    const drained = booting(1)
    recordMessage(drained, { t: 'ready' }, 1100)
    Object.assign(drained, { state: 'draining', reason: 'replaced by generation 4', expectedExit: true })
    const exit = recordExit(drained, 0, null, 9000)
    expect(exit.log).toEqual({ level: 'info', message: 'Worker exiting (pid: 1): replaced by generation 4' })
    expect(exit.crash).toBeNull()

    const killed = booting(2)
    recordMessage(killed, { t: 'ready' }, 1100)
    expect(recordExit(killed, null, 'SIGKILL', 1600)).toMatchObject({ reason: 'killed by SIGKILL', crash: { upMs: 500 } })
    const stable = booting(3)
    recordMessage(stable, { t: 'ready' }, 1100)
    expect(recordExit(stable, 1, null, 1100 + STABLE_AFTER_MS)).toMatchObject({ reason: 'exited with code 1', crash: null })
  })
})
