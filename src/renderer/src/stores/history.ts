/**
 * History for charts and sparklines: one point per snapshot, kept in rings sized for
 * at least 10 minutes at the snapshot rate (4 Hz -> 2400 points; 3000 leaves room).
 */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { ArbiterSnapshot } from '@shared/protocol'
import { Ring } from '../lib/ring'
import { pointOf, type HistoryPoint } from '@shared/history'

export const HISTORY_POINTS = 3000

/** The figures of the whole server at one snapshot (the shared HistoryPoint without its per-worker part). */
export type GlobalPoint = Omit<HistoryPoint, 'perWorker'>

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
    pushPoint(pointOf(s))
  }

  /** One point, from a snapshot or from the history the server replays on connect. */
  function pushPoint(p: HistoryPoint): void {
    for (const w of p.perWorker ?? []) {
      let h = perWorker.get(w.pid)
      if (!h) {
        h = { ring: new Ring<WorkerPoint>(HISTORY_POINTS), lastRequests: w.requests, lastAt: p.t }
        perWorker.set(w.pid, h)
      }
      const dt = (p.t - h.lastAt) / 1000
      const rps = dt > 0 ? Math.max(0, (w.requests - h.lastRequests) / dt) : 0
      h.lastRequests = w.requests
      h.lastAt = p.t
      h.ring.push({ t: p.t, rps, inFlight: w.inFlight, cpu: w.cpu, rss: w.rss })
    }
    // forget workers gone for good (keep the history of the last ones for the reload view)
    if (perWorker.size > 256) {
      const livePids = new Set((p.perWorker ?? []).map((w) => w.pid))
      for (const pid of perWorker.keys()) if (!livePids.has(pid)) perWorker.delete(pid)
    }
    const { perWorker: _, ...point } = p
    global.push(point)
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

  return { version, push, pushPoint, series, workerSeries, clear, size: () => global.length }
})
