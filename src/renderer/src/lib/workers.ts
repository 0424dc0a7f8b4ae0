/**
 * The order of the worker cards: live workers first, by generation then age, so a
 * reload or a crash never pushes them off screen; then a few recently exited ones,
 * so an exit and its reason can be read, but never more than a handful.
 */
import { WORKER_SILENT_MS, type WorkerSnapshot } from '@shared/protocol'

/** exited workers shown at most, newest exit first */
export const EXITED_SHOWN = 4
/** and only those that exited this recently */
export const EXITED_SHOWN_MS = 60_000

export interface ExitedWorker {
  worker: WorkerSnapshot
  exitedAt: number
}

export interface WorkerGroups {
  live: WorkerSnapshot[]
  exited: ExitedWorker[]
  /** exited workers in the snapshot that are not shown */
  hiddenExited: number
}

/**
 * `exitTime` gives when a worker exited, as the lifecycle events said; without it (the
 * dashboard attached after the exit) the last heartbeat is the best estimate.
 */
export function arrangeWorkers(workers: WorkerSnapshot[], now: number, exitTime: (pid: number) => number | null = () => null): WorkerGroups {
  const live = workers
    .filter((w) => w.state !== 'exited')
    .sort((a, b) => a.generation - b.generation || a.spawnedAt - b.spawnedAt || a.id - b.id)
  const exitedAll = workers
    .filter((w) => w.state === 'exited')
    .map((w) => ({ worker: w, exitedAt: exitTime(w.pid) ?? w.lastHeartbeat ?? w.readyAt ?? w.spawnedAt }))
    .sort((a, b) => b.exitedAt - a.exitedAt || b.worker.id - a.worker.id)
  const exited = exitedAll.filter((e) => now - e.exitedAt <= EXITED_SHOWN_MS).slice(0, EXITED_SHOWN)
  return { live, exited, hiddenExited: exitedAll.length - exited.length }
}

export interface Silence {
  /** ms since the worker was last heard of (its last heartbeat, or ready) */
  silentMs: number
  /** amber: silent, maybe busy in one long request; red: half-way or more to --timeout, which kills it */
  level: 'warn' | 'danger'
}

/**
 * A SIGSTOPped worker used to stay green `ready` with its last numbers for 30 s until the
 * timeout killed it. A worker heartbeats 4 times a second from its event loop: silent for
 * longer than WORKER_SILENT_MS, it is stuck or busy in synchronous code, whatever its state says.
 * `timeoutSec` is the --timeout in effect (0: off).
 */
export function workerSilence(w: WorkerSnapshot, now: number, timeoutSec: number, silentAfterMs = WORKER_SILENT_MS): Silence | null {
  if (w.state !== 'ready' && w.state !== 'draining') return null
  const heard = w.lastHeartbeat ?? w.readyAt
  if (heard === null) return null
  const silentMs = now - heard
  if (silentMs <= silentAfterMs) return null
  return { silentMs, level: timeoutSec > 0 && silentMs >= (timeoutSec * 1000) / 2 ? 'danger' : 'warn' }
}
