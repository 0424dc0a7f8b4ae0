/**
 * What the snapshot says a worker is running: the requests in flight at its last heartbeat,
 * and the request it last announced only once it has fallen silent (announced requests have
 * usually finished long before the next heartbeat clears them).
 */
import { describe, expect, it } from 'vitest'
import { workerSnapshot } from '../../../dist/server/arbiter/worker-record.js'

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
