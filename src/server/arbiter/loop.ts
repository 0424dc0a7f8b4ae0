/**
 * How soon the arbiter's loop runs again. Anything in motion (workers booting or draining, a
 * reload, a back-off, a worker below or above the target, connections open or requests in
 * flight) gets the 250 ms loop. An idle server, every worker ready with nothing to do, is
 * looked at when the first worker would pass --timeout without a heartbeat (each beat moves
 * that moment, and idle workers beat every few seconds: worker/main.ts), or after
 * IDLE_TICK_MS for the process-table check (a fallback for a lost exit event). Every worker
 * message that changes a state runs the loop itself, so nothing waits for the slow pace.
 * With --max-worker-memory set it runs at least every MEMORY_SAMPLE_MS: memory.ts wants two
 * samples a second apart (an idle-paced loop let a leaking worker reach 2.2 GiB).
 */
import type { WorkerRecord } from './worker-record.js'
import { MEMORY_SAMPLE_MS } from './memory.js'

/** the loop while something moves */
export const TICK_MS = 250
/** the most an idle server waits between two looks */
export const IDLE_TICK_MS = 5000

export interface LoopFigures {
  /** stopping, a reload, a back-off, or fewer or more serving workers than the target */
  busy: boolean
  /** the live workers */
  workers: Pick<WorkerRecord, 'state' | 'abortedAt' | 'retiring' | 'stats' | 'lastHeartbeat'>[]
  /** --timeout in ms, 0 = off */
  timeoutMs: number
  /** --max-worker-memory is set: its samples come from the loop */
  memoryWatched?: boolean
  now: number
}

export function nextTickMs(f: LoopFigures): number {
  if (f.busy) return TICK_MS
  let next = IDLE_TICK_MS
  for (const w of f.workers) {
    if (w.state === 'exited') continue
    if (w.state !== 'ready' || w.abortedAt || w.retiring || (w.stats && (w.stats.connections > 0 || w.stats.inFlight > 0))) return TICK_MS
    if (f.timeoutMs > 0 && w.lastHeartbeat !== null) next = Math.min(next, w.lastHeartbeat + f.timeoutMs + 1 - f.now)
  }
  return Math.min(Math.max(TICK_MS, next), f.memoryWatched ? MEMORY_SAMPLE_MS : Infinity)
}
