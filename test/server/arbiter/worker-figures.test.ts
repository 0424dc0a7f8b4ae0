/**
 * A worker's figures travel from its heartbeat to the snapshot as one definition
 * (WorkerFigures): every figure arrives, and what only the arbiter uses stays behind.
 */
import { describe, expect, it } from 'vitest'
import { workerSnapshot, type WorkerRecord } from '../../../src/server/arbiter/worker-record.js'
import type { WorkerStats } from '../../../src/server/worker/ipc.js'

function record(stats: WorkerStats | null): WorkerRecord {
  return {
    pid: 41, id: 2, workerClass: 'gthread', generation: 3, state: 'ready', spawnedAt: 1000, readyAt: 1200,
    stats, inFlight: [], lastStarted: null, lastHeartbeat: stats ? Date.now() : null, traits: null,
    exitCode: null, exitSignal: null, reason: null,
  } as unknown as WorkerRecord
}

const beat: WorkerStats = {
  requests: 120, inFlight: 2, queued: 1, connections: 5, upgraded: 1, threadsBusy: 2, threadsTotal: 4,
  threadSlots: [true, true, false, false], loopLagMs: 1.4, latency: { counts: [100, 20], sumMs: 900 },
  completed: 7, durations: [3, 4, 5, 6, 7, 8, 9], shedding: 2,
}

describe('worker figures in the snapshot', () => {
  it('carries every figure of the last heartbeat and none of the arbiter-only fields', () => {
    const snap = workerSnapshot(record(beat))
    expect(snap).toMatchObject({
      requests: 120, inFlight: 2, queued: 1, connections: 5, upgraded: 1, threadsBusy: 2, threadsTotal: 4,
      threadSlots: [true, true, false, false], loopLagMs: 1.4, latency: { counts: [100, 20], sumMs: 900 },
    })
    expect(snap).not.toHaveProperty('completed')
    expect(snap).not.toHaveProperty('durations')
    expect(snap).not.toHaveProperty('shedding')
  })

  it('shows a worker without a heartbeat as idle with one slot and no latency yet', () => {
    const json = JSON.parse(JSON.stringify(workerSnapshot(record(null))))
    expect(json).toEqual({
      pid: 41, id: 2, workerClass: 'gthread', generation: 3, state: 'ready', spawnedAt: 1000, readyAt: 1200,
      requests: 0, inFlight: 0, queued: 0, connections: 0, upgraded: 0, threadsBusy: 0, threadsTotal: 1, loopLagMs: 0,
      cpu: null, rss: null, lastHeartbeat: null, exitCode: null, exitSignal: null,
    })
  })
})
