import type { ChildProcess } from 'node:child_process'
import { silentAfterMs, type RequestRef, type WorkerClassName, type WorkerFigures, type WorkerSnapshot, type WorkerState } from '../../shared/protocol.js'
import type { WorkerStats } from '../worker/ipc.js'
import type { ReportedTraits } from '../classes/worker-class.js'

/** The arbiter's view of one worker process. */
export interface WorkerRecord {
  id: number
  /** PADDOCK_WORKER_ID: 0..N-1, taken over by its replacement (slots.ts) */
  slot: number
  /** -1 and null while `spawning` (before the fork) */
  pid: number
  child: ChildProcess | null
  generation: number
  workerClass: WorkerClassName
  state: WorkerState
  spawnedAt: number
  readyAt: number | null
  lastHeartbeat: number | null
  /** when the worker said its next heartbeat is due, ms after its last (it beats slowly while idle) */
  beatEveryMs: number | null
  stats: WorkerStats | null
  inFlight: RequestRef[]
  /** A request announced with {t:'req'} (may be blocking the loop). */
  lastStarted: RequestRef | null
  retiring: boolean
  /** the last time it was asked to give back kept-alive connections (see balance.ts) */
  shed?: { at: number }
  /** Why it is draining or why it was killed: the exit is then expected. */
  reason: string | null
  expectedExit: boolean
  abortedAt: number | null
  exitCode: number | null
  exitSignal: string | null
  bootError: string | null
  /** what its class lets the master ask of it, from its 'ready' (classes/worker-class.ts) */
  traits: ReportedTraits | null
  /** resolves once the arbiter has recorded the exit (from the child's exit event or the process-table check) */
  gone: Promise<void>
  markGone: () => void
}

/** A worker's figures before its first heartbeat. */
const NO_FIGURES: Omit<WorkerFigures, 'latency'> = {
  requests: 0, inFlight: 0, queued: 0, connections: 0, upgraded: 0, threadsBusy: 0, threadsTotal: 1, loopLagMs: 0,
}

/** The heartbeat's fields the arbiter keeps to itself (rates, balancing): never in a snapshot. */
type HeartbeatOnly = Exclude<keyof WorkerStats, keyof WorkerFigures>

function figuresOf(stats: WorkerStats): WorkerFigures {
  const { completed, durations, shedding, ...figures } = stats
  // Names every heartbeat-only field: one added to WorkerStats and not here fails to compile
  // instead of reaching every client (durations alone can be 512 numbers a worker).
  const left: Record<HeartbeatOnly, unknown> = { completed, durations, shedding }
  void left
  return figures
}

/**
 * A worker about to be forked (state `spawning`): what the pre_fork hook sees. `forked`
 * gives it its process, and it is `booting` from then on.
 */
export function createWorkerRecord(w: { id: number; generation: number; workerClass: WorkerClassName; slot: number }): WorkerRecord {
  let markGone!: () => void
  const gone = new Promise<void>((resolve) => (markGone = resolve))
  return {
    ...w,
    pid: -1,
    child: null,
    traits: null,
    state: 'spawning',
    spawnedAt: Date.now(),
    readyAt: null,
    lastHeartbeat: null,
    beatEveryMs: null,
    stats: null,
    inFlight: [],
    lastStarted: null,
    retiring: false,
    reason: null,
    expectedExit: false,
    abortedAt: null,
    exitCode: null,
    exitSignal: null,
    bootError: null,
    gone,
    markGone,
  }
}

export function forked(w: WorkerRecord, child: ChildProcess): void {
  w.child = child
  w.pid = child.pid ?? -1
  w.state = 'booting'
  w.spawnedAt = Date.now()
}

export function workerSnapshot(w: WorkerRecord): WorkerSnapshot {
  const s = w.stats
  // What it is running: the requests in flight at its last heartbeat. The request it last
  // announced (sent for the timeout log) has most likely finished long ago unless the
  // worker fell silent, so it counts only then.
  const silent = w.lastHeartbeat !== null && Date.now() - w.lastHeartbeat > silentAfterMs(w.beatEveryMs)
  const oldest = [...w.inFlight, ...(silent && w.lastStarted ? [w.lastStarted] : [])].sort((a, b) => a.startedAt - b.startedAt)[0]
  return {
    pid: w.pid,
    id: w.id,
    slot: w.slot,
    workerClass: w.workerClass,
    generation: w.generation,
    state: w.state,
    spawnedAt: w.spawnedAt,
    readyAt: w.readyAt,
    ...(s ? figuresOf(s) : NO_FIGURES),
    workerConnections: w.traits?.connectionCap,
    cpu: null,
    rss: null,
    lastHeartbeat: w.lastHeartbeat,
    heartbeatEveryMs: w.beatEveryMs,
    oldestRequest: (s && s.inFlight > 0) || (silent && w.lastStarted) ? oldest : undefined,
    exitCode: w.exitCode,
    exitSignal: w.exitSignal,
    reason: w.reason ?? undefined,
  }
}

/** The request a silent worker was most likely stuck in. */
export function stuckRequest(w: WorkerRecord): RequestRef | null {
  const candidates = [...w.inFlight, ...(w.lastStarted ? [w.lastStarted] : [])]
  if (!candidates.length) return null
  return candidates.sort((a, b) => a.startedAt - b.startedAt)[0]
}
