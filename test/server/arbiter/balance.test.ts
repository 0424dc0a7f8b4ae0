/**
 * Connection balancing as a policy: figures in, shed requests out. Imports src/ and forks
 * nothing.
 */
import { describe, expect, it } from 'vitest'
import { Balancer, hasRoom, planBalance, type BalanceFigures } from '../../../src/server/arbiter/balance.js'
import type { WorkerStats } from '../../../src/server/worker/ipc.js'
import { createWorkerRecord, type WorkerRecord } from '../../../src/server/arbiter/worker-record.js'

const NOW = 100_000

function worker(pid: number, connections: number, more: Partial<BalanceFigures> = {}): BalanceFigures {
  return { pid, connections, hasRoom: true, canShed: true, reportedAt: NOW - 100, shedAskedAt: null, shedding: 0, ...more }
}

function stats(more: Partial<WorkerStats>): WorkerStats {
  return {
    requests: 0, inFlight: 0, queued: 0, connections: 0, upgraded: 0, threadsBusy: 0, threadsTotal: 1,
    loopLagMs: 0, completed: 0, latency: { counts: [], sumMs: 0 }, durations: [], ...more,
  }
}

describe('planBalance', () => {
  it('moves nothing while every worker is within 20% of the fair share', () => {
    // share 10: 8 is not below 80% of it, 12 not above 120%
    expect(planBalance([worker(1, 12), worker(2, 8)], NOW, 0)).toEqual([])
    expect(planBalance([worker(1, 11), worker(2, 9)], NOW, 0)).toEqual([])
  })

  it('asks a worker above 120% of the fair share for its surplus while another is below 80%', () => {
    // share 10: 7 < 8 and 13 > 12; the crowded one gives back what it holds above the share
    expect(planBalance([worker(1, 13), worker(2, 7)], NOW, 0)).toEqual([{ pid: 1, count: 3 }])
    // after a respawn: the new worker holds nothing, each survivor gives back its surplus
    expect(planBalance([worker(1, 12), worker(2, 12), worker(3, 0)], NOW, 0)).toEqual([{ pid: 1, count: 4 }, { pid: 2, count: 4 }])
  })

  it('waits for a heartbeat from each worker sent after the last exit', () => {
    const exitAt = NOW - 50
    const stale = [worker(1, 24, { reportedAt: NOW - 200 }), worker(2, 0, { reportedAt: NOW - 10 })]
    expect(planBalance(stale, NOW, exitAt)).toBeNull()
    // a worker just ready has not reported at all: it does not hold the round back
    const fresh = [worker(1, 24, { reportedAt: NOW - 10 }), worker(2, 0, { reportedAt: null })]
    expect(planBalance(fresh, NOW, exitAt)).toEqual([{ pid: 1, count: 12 }])
  })

  it('sends no connections to a saturated worker', () => {
    expect(planBalance([worker(1, 30), worker(2, 4, { hasRoom: false })], NOW, 0)).toEqual([])
    expect(planBalance([worker(1, 30), worker(2, 4, { hasRoom: true })], NOW, 0)).toEqual([{ pid: 1, count: 13 }])
  })

  it('leaves out workers whose class cannot shed, and needs two that can', () => {
    expect(planBalance([worker(1, 30), worker(2, 0, { canShed: false })], NOW, 0)).toBeNull()
    // the share is counted over the workers that take part only: 30 + 0 over 2
    const three = [worker(1, 30), worker(2, 0), worker(3, 0, { canShed: false })]
    expect(planBalance(three, NOW, 0)).toEqual([{ pid: 1, count: 15 }])
  })

  it('moves nothing below two connections per worker', () => {
    expect(planBalance([worker(1, 3), worker(2, 0)], NOW, 0)).toEqual([])
    expect(planBalance([worker(1, 4), worker(2, 0)], NOW, 0)).toEqual([{ pid: 1, count: 2 }])
  })

  it('does not ask again a worker still giving back connections, for up to 3 s', () => {
    const askedAt = NOW - 1000
    const giving = worker(1, 20, { shedAskedAt: askedAt, reportedAt: NOW - 100, shedding: 5 })
    expect(planBalance([giving, worker(2, 0)], NOW, 0)).toEqual([])
    // its heartbeat since the request says it is done: asked again
    expect(planBalance([{ ...giving, shedding: 0 }, worker(2, 0)], NOW, 0)).toEqual([{ pid: 1, count: 10 }])
    // no heartbeat since the request: its shedding figure is older than the request
    expect(planBalance([{ ...giving, reportedAt: askedAt - 10 }, worker(2, 0)], NOW, 0)).toEqual([{ pid: 1, count: 10 }])
    // 3 s and still not done: asked again
    expect(planBalance([{ ...giving, shedAskedAt: NOW - 3000 }, worker(2, 0)], NOW, 0)).toEqual([{ pid: 1, count: 10 }])
  })
})

describe('hasRoom', () => {
  it('is false for a worker with requests waiting or every thread busy', () => {
    expect(hasRoom(null)).toBe(true)
    expect(hasRoom(stats({ queued: 0, threadsBusy: 3, threadsTotal: 4 }))).toBe(true)
    expect(hasRoom(stats({ queued: 0, threadsBusy: 4, threadsTotal: 4 }))).toBe(false)
    expect(hasRoom(stats({ queued: 2, threadsBusy: 3, threadsTotal: 4 }))).toBe(false)
    // one thread (async, native): busy is the normal state, only waiting requests count
    expect(hasRoom(stats({ queued: 0, threadsBusy: 1, threadsTotal: 1 }))).toBe(true)
    expect(hasRoom(stats({ queued: 1, threadsBusy: 1, threadsTotal: 1 }))).toBe(false)
  })
})

describe('Balancer', () => {
  const crowded = () => [worker(1, 20, { reportedAt: null }), worker(2, 0, { reportedAt: null })]

  it('makes a round at most every 500 ms, at once after a worker becomes ready', () => {
    const b = new Balancer()
    expect(b.round(crowded(), NOW)).toHaveLength(1)
    expect(b.round(crowded(), NOW + 300)).toEqual([])
    expect(b.round(crowded(), NOW + 500)).toHaveLength(1)
    b.workerReady()
    expect(b.round(crowded(), NOW + 600)).toHaveLength(1)
  })

  it('does not count a round it could not make: the next heartbeat after an exit acts at once', () => {
    const b = new Balancer()
    b.workerExited(NOW)
    const stale = [worker(1, 20, { reportedAt: NOW - 100 }), worker(2, 0, { reportedAt: NOW - 100 })]
    expect(b.round(stale, NOW + 10)).toEqual([])
    const fresh = [worker(1, 20, { reportedAt: NOW + 200 }), worker(2, 0, { reportedAt: NOW + 200 })]
    expect(b.round(fresh, NOW + 250)).toEqual([{ pid: 1, count: 10 }])
  })

  it("over the arbiter's records: only ready workers whose class sheds take part, and each one asked is marked", () => {
    const record = (pid: number, connections: number, more: Partial<WorkerRecord> = {}): WorkerRecord =>
      Object.assign(createWorkerRecord({ id: pid, generation: 1, workerClass: 'async', slot: pid }), {
        pid, state: 'ready', lastHeartbeat: NOW - 100, stats: stats({ connections }), traits: { shedsConnections: true, connectionCap: 1000 }, ...more,
      })
    const crowdedAsync = record(1, 20)
    const idleAsync = record(2, 0)
    // a draining worker and a sync worker (its class sheds nothing) are no part of the round
    const draining = record(3, 40, { state: 'draining' })
    const sync = record(4, 0, { traits: { shedsConnections: false, connectionCap: 1 } })
    const asked: [number, number][] = []
    new Balancer().shedFrom([crowdedAsync, idleAsync, draining, sync], NOW, (w, count) => asked.push([w.pid, count]))
    expect(asked).toEqual([[1, 10]])
    expect(crowdedAsync.shed).toEqual({ at: NOW })
    expect(idleAsync.shed).toBeUndefined()
  })
})
