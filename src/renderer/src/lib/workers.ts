/**
 * The order of the worker cards: live workers first, by generation then age, so a
 * reload or a crash never pushes them off screen; then a few recently exited ones,
 * so an exit and its reason can be read, but never more than a handful.
 */
import type { WorkerSnapshot } from '../../../shared/protocol'

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
