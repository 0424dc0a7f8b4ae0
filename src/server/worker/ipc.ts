/**
 * The private contract between the arbiter and its worker processes.
 *
 * Process layout of a worker (set up by the arbiter with child_process.fork):
 *   fd 0,1,2  inherited stdio (the app's console output goes where the master's goes)
 *   fd 3      Node IPC channel (process.send / 'message'): the messages below
 *   fd 4..    one inherited duplicate of each listening socket, in the order of
 *             WorkerBootInfo.listeners. The master holds the same sockets and never
 *             accepts on them; workers accept from them, so connections no worker
 *             takes wait in the kernel backlog.
 *
 * The boot info travels in the environment variable PADDOCK_WORKER (JSON) so
 * that it is there before any app code runs.
 */
import type { RequestRef, RequestSpan, WorkerClassName, WorkerFigures, LogLevel } from '../../shared/protocol.js'
import type { ReportedTraits } from '../classes/worker-class.js'
import type { WorkerIdentity } from '../platform/identity.js'

export const WORKER_ENV = 'PADDOCK_WORKER'
/** First fd number of the inherited listening sockets in a worker. */
export const FIRST_LISTENER_FD = 4

export interface ListenerFd {
  fd: number
  kind: 'tcp' | 'unix'
  /** As the user wrote it, for logs. */
  bind: string
}

export interface WorkerBootInfo {
  /** Arbiter's small id for this worker (age order). */
  id: number
  /** 0..N-1, kept by a replacement: PADDOCK_WORKER_ID */
  slot: number
  generation: number
  workerClass: WorkerClassName
  listeners: ListenerFd[]
  /** Absolute path of the config file to load hooks from, or null. */
  configFile: string | null
  /** The resolved settings (plain JSON: no functions). */
  settings: Record<string, unknown>
  /** Heartbeat / stats interval in ms while the figures move (an idle worker beats more slowly: worker/main.ts). */
  heartbeatMs: number
  masterPid: number
  /** --user/--group/--initgroups: who to become before anything of the app loads (platform/identity.ts) */
  identity?: WorkerIdentity | null
}

// ------------------------------------------------------------- worker -> master

/** A heartbeat's figures: the snapshot's (WorkerFigures), and what only the arbiter uses. */
export interface WorkerStats extends WorkerFigures {
  /** requests completed since the last heartbeat */
  completed: number
  /** durations (ms) of a uniform sample of those, at most 512, for the arbiter's percentiles */
  durations: number[]
  /** kept-alive connections still to be given back after a {t:'shed'} (see Arbiter.balance) */
  shedding?: number
}

export type WorkerMessage =
  /** The app module was loaded (and post_worker_init ran). */
  | { t: 'booted' }
  /** Listening on every listener: the worker accepts from now on. `traits`: what its worker class lets the master ask of it (classes/worker-class.ts). */
  | { t: 'ready'; traits?: ReportedTraits }
  /** Loading the app or listening failed: the worker exits right after. */
  | { t: 'boot-error'; error: string; stack?: string; code?: string }
  /**
   * A heartbeat with the worker's figures, from its event loop. `nextInMs`: when the next
   * beat (`hb` or `alive`) is due: heartbeatMs while figures move, slower while idle.
   */
  | { t: 'hb'; stats: WorkerStats; inFlight: RequestRef[]; spans: RequestSpan[]; droppedSpans: number; nextInMs: number }
  /** A heartbeat with nothing new: the figures are those of the last `hb`. */
  | { t: 'alive'; nextInMs: number }
  /**
   * A request started while no heartbeat went out for a while: names what may block the
   * loop. `nextInMs`: the next beat was brought forward to this (the worker was idle).
   */
  | { t: 'req'; request: RequestRef; nextInMs?: number }
  /** --max-requests reached: please spawn my replacement, then tell me to drain. */
  | { t: 'retire'; requests: number }
  /** A log line for the master's error log and the dashboard. */
  | { t: 'log'; level: LogLevel; message: string }
  /** A sampled access log line for the dashboard (the access log file gets every line from the worker itself). */
  | { t: 'access'; line: string }
  /** Drain finished: the worker is about to exit 0. */
  | { t: 'drained' }

// ------------------------------------------------------------- master -> worker

export type MasterMessage =
  /** Graceful stop: stop accepting, finish in-flight, close kept-alive connections, exit 0. */
  | { t: 'drain'; reason: string; gracefulTimeoutMs: number }
  /** Quick stop: exit now. */
  | { t: 'quit' }
  | { t: 'reopen-logs' }
  /** Rebalance: this worker holds more than its share of kept-alive connections; close `count` of them after their current response. */
  | { t: 'shed'; count: number }
