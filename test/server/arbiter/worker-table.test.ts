/**
 * The arbiter's worker table: who counts as serving, what the snapshot counts, and exited
 * records kept for the dashboard for a while. Imports src/ and forks nothing.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { FORGET_AFTER_MS, WorkerTable } from '../../../src/server/arbiter/worker-table.js'
import { createWorkerRecord, recordExit, type WorkerRecord } from '../../../src/server/arbiter/worker-record.js'

afterEach(() => {
  vi.useRealTimers()
})

function worker(table: WorkerTable, pid: number, generation: number, more: Partial<WorkerRecord> = {}): WorkerRecord {
  const w = createWorkerRecord({ id: table.nextId(), generation, workerClass: 'sync', slot: 0 })
  Object.assign(w, { pid, state: 'ready', ...more })
  table.add(w)
  return w
}

const served = (requests: number) => ({ requests, inFlight: 0, queued: 0, connections: 0, upgraded: 0, threadsBusy: 0, threadsTotal: 1, loopLagMs: 0, completed: 0, durations: [], shedding: 0, latency: { counts: [], sumMs: 0 } })

describe('the worker table', () => {
  it('counts as serving the live workers of the generation that neither drain nor retire', () => {
    const t = new WorkerTable()
    worker(t, 11, 2)
    worker(t, 12, 2, { state: 'booting' })
    worker(t, 13, 2, { state: 'draining' })
    worker(t, 14, 2, { retiring: true })
    worker(t, 15, 1)
    worker(t, 16, 2, { state: 'exited' })
    expect(t.serving(2).map((w) => w.pid)).toEqual([11, 12])
    expect(t.live().map((w) => w.pid)).toEqual([11, 12, 13, 14, 15])
    expect(t.all()).toHaveLength(6)
  })

  it('gives ids from 1 that are never reused, and counts a failed fork (pid -1) without listing it', () => {
    const t = new WorkerTable()
    expect([t.nextId(), t.nextId()]).toEqual([1, 2])
    const failed = createWorkerRecord({ id: t.nextId(), generation: 1, workerClass: 'sync', slot: 0 })
    t.add(failed)
    expect(t.all()).toEqual([])
    expect(t.counters().workersSpawned).toBe(1)
  })

  it("keeps an exited worker's requests in the total and forgets its record after FORGET_AFTER_MS", () => {
    vi.useFakeTimers()
    const t = new WorkerTable()
    const a = worker(t, 21, 1, { stats: served(40) })
    worker(t, 22, 1, { stats: served(2) })
    expect(t.counters()).toEqual({ requests: 42, workersSpawned: 2, workersExited: 0, workersKilled: 0 })
    recordExit(a, 0, null, Date.now())
    t.exited(a)
    expect(t.counters()).toEqual({ requests: 42, workersSpawned: 2, workersExited: 1, workersKilled: 0 })
    expect(a.stats?.requests).toBe(0)
    expect(t.get(21)?.state).toBe('exited')
    vi.advanceTimersByTime(FORGET_AFTER_MS)
    expect(t.get(21)).toBeUndefined()
    expect(t.counters().requests).toBe(42)
  })

  it('signals only a live worker it lists: ctl kill cannot reach another process', () => {
    const t = new WorkerTable()
    expect(() => t.kill(process.ppid, 'SIGTERM')).toThrow(expect.objectContaining({ code: 'PADDOCK_ERR_NO_SUCH_WORKER' }))
    worker(t, 31, 1, { state: 'exited' })
    expect(() => t.kill(31, 'SIGTERM')).toThrow(expect.objectContaining({ code: 'PADDOCK_ERR_NO_SUCH_WORKER' }))
    // listed and alive (this test's own process), but no such signal: refused, nothing sent
    worker(t, process.pid, 1)
    expect(() => t.kill(process.pid, 'SIGNOPE')).toThrow(expect.objectContaining({ code: 'PADDOCK_ERR_INVALID_VALUE' }))
    expect(t.counters().workersKilled).toBe(0)
  })
})
