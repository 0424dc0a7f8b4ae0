/**
 * History for charts and sparklines: one point per snapshot, kept in rings sized for
 * at least 10 minutes at the snapshot rate (4 Hz -> 2400 points; 3000 leaves room).
 */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { ArbiterSnapshot } from '../../../shared/protocol'
import { Ring } from '../lib/ring'

export const HISTORY_POINTS = 3000

export interface GlobalPoint {
  t: number
  rps: number
  p50: number | null
  p99: number | null
  inFlight: number
  queued: number
  queueDepth: number
  workers: number
}

export interface WorkerPoint {
  t: number
  rps: number
  inFlight: number
  cpu: number | null
  rss: number | null
}

export const useHistoryStore = defineStore('history', () => {
  const global = new Ring<GlobalPoint>(HISTORY_POINTS)
  const perWorker = new Map<number, { ring: Ring<WorkerPoint>; lastRequests: number; lastAt: number }>()
  /** bumped on every push so computed charts re-render; the rings themselves are not reactive (cheap) */
  const version = ref(0)

  function push(s: ArbiterSnapshot): void {
    let inFlight = 0
    let queued = 0
    const live = s.workers.filter((w) => w.state !== 'exited')
    for (const w of live) {
      inFlight += w.inFlight
      queued += w.queued
      let h = perWorker.get(w.pid)
      if (!h) {
        h = { ring: new Ring<WorkerPoint>(HISTORY_POINTS), lastRequests: w.requests, lastAt: s.at }
        perWorker.set(w.pid, h)
      }
      const dt = (s.at - h.lastAt) / 1000
      const rps = dt > 0 ? Math.max(0, (w.requests - h.lastRequests) / dt) : 0
      h.lastRequests = w.requests
      h.lastAt = s.at
      h.ring.push({ t: s.at, rps, inFlight: w.inFlight, cpu: w.cpu, rss: w.rss })
    }
    // forget workers gone for good (keep the history of the last ones for the reload view)
    if (perWorker.size > 256) {
      const livePids = new Set(live.map((w) => w.pid))
      for (const pid of perWorker.keys()) if (!livePids.has(pid)) perWorker.delete(pid)
    }
    global.push({
      t: s.at,
      rps: s.rates.requestsPerSec,
      p50: s.rates.p50Ms,
      p99: s.rates.p99Ms,
      inFlight,
      queued,
      queueDepth: s.listeners.reduce((a, l) => a + (l.queueDepth ?? 0), 0),
      workers: live.length,
    })
    version.value++
  }

  function series(n?: number): GlobalPoint[] {
    void version.value
    return global.toArray(n)
  }

  function workerSeries(pid: number, n?: number): WorkerPoint[] {
    void version.value
    return perWorker.get(pid)?.ring.toArray(n) ?? []
  }

  function clear(): void {
    global.clear()
    perWorker.clear()
    version.value++
  }

  return { version, push, series, workerSeries, clear, size: () => global.length }
})
