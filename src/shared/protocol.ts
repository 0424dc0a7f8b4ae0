/**
 * The paddock control protocol: the one contract between the engine (src/server)
 * and every client (Electron renderer over IPC, the browser dashboard over
 * WebSocket, `paddock ctl` over the Unix control socket).
 *
 * Types only: this file has no runtime dependencies and is imported by both
 * the engine and the renderer. Every transport carries exactly these shapes,
 * framed as JSON.
 *
 *   client                               engine
 *     | -- hello {protocol} ------------->  |
 *     | <------------- welcome {snapshot} - |   (or error PADDOCK_ERR_PROTOCOL)
 *     | <------------- snapshot (4 Hz) ---- |
 *     | <------------- event ------------- |
 *     | -- command {id, cmd} ------------>  |
 *     | <------------- result {id, ...} --- |
 */

import type { ControlErrorCode } from './errors.js'
import type { WorkerClassInput, WorkerClassName } from './worker-classes.js'
import type { ReplayedHistory } from './history.js'

/** Bumped on any incompatible change. A client on another version is refused with a clear error. */
export const PROTOCOL_VERSION = 1

/** The classes and their aliases are listed once, in worker-classes.ts. */
export type { WorkerClassInput, WorkerClassName }

/**
 *   spawning --> booting --> ready --> draining --> exited
 *       \            \                               ^
 *        `------------`----- (crash / boot error) ---'
 */
export type WorkerState = 'spawning' | 'booting' | 'ready' | 'draining' | 'exited'

/** The arbiter's own state. `errored`: a crash loop gave up; the cause is in `lastError`. */
export type ArbiterState = 'starting' | 'running' | 'reloading' | 'stopping' | 'stopped' | 'errored'

export interface ListenerSnapshot {
  /** As the user wrote it: `127.0.0.1:8000`, `[::1]:8000`, `unix:/run/app.sock`, `fd://3`. */
  bind: string
  kind: 'tcp' | 'unix'
  host?: string
  port?: number
  path?: string
  backlog: number
  /** The workers serve TLS on it (https://). */
  tls?: boolean
  /** Connections completed by the kernel and waiting for a worker to accept them (Linux: rx_queue of the LISTEN socket). null where the OS does not tell. */
  queueDepth: number | null
}

export interface RequestRef {
  method: string
  url: string
  /** ms since epoch */
  startedAt: number
  thread?: number
}

/**
 * What a worker reports of itself with every heartbeat (WorkerStats in the engine's worker
 * IPC) and what the snapshot shows of it: one definition, so a figure added to the heartbeat
 * is in the snapshot too.
 */
export interface WorkerFigures {
  /** Requests completed by this worker. */
  requests: number
  /** Requests whose handler is running right now. */
  inFlight: number
  /** Requests accepted and parsed but waiting for a free thread (gthread) or the worker (sync). */
  queued: number
  /** Open client connections (kept-alive idle ones included). */
  connections: number
  /** Connections upgraded to another protocol (WebSocket) and still open. */
  upgraded: number
  /** gthread: threads running a request / pool size. Others: 0 or 1 / 1. */
  threadsBusy: number
  threadsTotal: number
  /** gthread: which thread slots are busy right now (length threadsTotal). */
  threadSlots?: boolean[]
  /** Event-loop lag of the worker's main thread, ms: the most a 10 ms timer ran late in the last second (about 0 when idle; a stall shows as its length for a second). */
  loopLagMs: number
  /**
   * Every request this worker completed, by duration: counts[i] took at most
   * LATENCY_BOUNDS_MS[i] (and more than the bound before); the last count, longer than the
   * last bound. Cumulative since the worker started.
   */
  latency: { counts: number[]; sumMs: number }
}

export interface WorkerSnapshot extends Omit<WorkerFigures, 'latency'> {
  pid: number
  /** Stable small index (age order within the arbiter), like Gunicorn's worker age. */
  id: number
  /** PADDOCK_WORKER_ID: 0..N-1 among the serving workers; a replacement takes the slot of the worker it replaces. */
  slot: number
  workerClass: WorkerClassName
  generation: number
  state: WorkerState
  /** ms since epoch */
  spawnedAt: number
  readyAt: number | null
  /** async: the connection cap (--worker-connections). */
  workerConnections?: number
  /** Percent of one core over the last sample; null until sampled. */
  cpu: number | null
  /** Resident set size in bytes; null until sampled. */
  rss: number | null
  /** Absent until the worker's first heartbeat. */
  latency?: WorkerFigures['latency']
  /** ms since epoch of the last heartbeat received. */
  lastHeartbeat: number | null
  /** the period the worker announced for its next heartbeat, ms (250 while busy, slower while idle); silentAfterMs reads it */
  heartbeatEveryMs?: number | null
  /** The oldest request in flight, when there is one. */
  oldestRequest?: RequestRef
  exitCode?: number | null
  exitSignal?: string | null
  /** Human-readable reason for the last exit (or for draining). */
  reason?: string
}

export interface ArbiterCounters {
  requests: number
  reloads: number
  workersSpawned: number
  workersExited: number
  workersKilled: number
  timeouts: number
}

export interface SystemSnapshot {
  /** 1-minute load average */
  load1: number
  /** percent of all cores, 0..100 */
  cpu: number
  memTotal: number
  memUsed: number
  cores: number
}

export interface ArbiterSnapshot {
  protocol: number
  /** ms since epoch when this snapshot was taken */
  at: number
  pid: number
  name: string
  state: ArbiterState
  startedAt: number
  app: string
  workerClass: WorkerClassName
  /** Workers wanted (the -w target after TTIN / TTOU / scale). */
  targetWorkers: number
  threads: number
  workerConnections: number
  generation: number
  listeners: ListenerSnapshot[]
  counters: ArbiterCounters
  workers: WorkerSnapshot[]
  /** Rolling figures over the last second, computed by the engine. */
  rates: { requestsPerSec: number; p50Ms: number | null; p99Ms: number | null }
  system: SystemSnapshot | null
  lastError: string | null
  /** A reload or class change under way, if any. */
  reload: ReloadProgress | null
  /** A load test under way, if any (teaching kit). */
  load: LoadProgress | null
  /** USR2 (a new master on the same sockets): whether this master can start one, and the masters around it. */
  upgrade: UpgradeState
}

export interface UpgradeState {
  /** reexec would be taken now: a master started by the paddock command, with no new or old master beside it */
  available: boolean
  /** the master this one started with USR2, while it runs */
  newMasterPid: number | null
  /** that master said it is ready: both serve until one is stopped */
  newMasterReady: boolean
  /** in a master started by USR2: the old master, while it runs */
  oldMasterPid: number | null
}

export interface ReloadProgress {
  id: number
  reason: string
  fromGeneration: number
  toGeneration: number
  /** new workers ready / wanted */
  ready: number
  wanted: number
  /** old workers drained / to drain */
  drained: number
  toDrain: number
  startedAt: number
}

/** A completed request, sampled (see SPAN_CAP_PER_SEC). */
export interface RequestSpan {
  pid: number
  generation: number
  thread: number
  method: string
  path: string
  status: number
  /** ms since epoch when the worker accepted the connection (queue wait ends here) */
  acceptedAt?: number
  /** ms since epoch when the handler started */
  start: number
  durationMs: number
}

/** At most this many spans per second leave the engine, whatever the load, so no client is flooded. */
/**
 * A worker without a heartbeat for this long is silent (busy in one request, or stuck):
 * the request it last announced may still be running, and its age counts to now. This is
 * the threshold at the busy heartbeat rate (4 Hz); see silentAfterMs.
 */
export const WORKER_SILENT_MS = 1000

/**
 * When a worker counts as silent, given the heartbeat period it announced
 * (WorkerSnapshot.heartbeatEveryMs): an idle worker beats about once a second, so a second
 * without a beat says nothing then; two missed beats and a margin for a loaded machine do.
 */
export function silentAfterMs(heartbeatEveryMs: number | null | undefined): number {
  return Math.max(WORKER_SILENT_MS, 2 * (heartbeatEveryMs ?? 0) + 500)
}

/** Upper bounds (ms) of the per-worker latency histogram (Prometheus' default buckets, in ms). */
export const LATENCY_BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const

export const SPAN_CAP_PER_SEC = 200
/** At most this many access log lines per second are streamed as events (the file gets them all). */
export const ACCESS_LOG_EVENT_CAP_PER_SEC = 50

export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'critical'

export type ControlEvent =
  | { type: 'worker.spawned'; at: number; pid: number; generation: number; workerClass: WorkerClassName }
  | { type: 'worker.booted'; at: number; pid: number; generation: number }
  | { type: 'worker.ready'; at: number; pid: number; generation: number; bootMs: number }
  | { type: 'worker.draining'; at: number; pid: number; generation: number; reason: string }
  | {
      type: 'worker.exited'
      at: number
      pid: number
      generation: number
      code: number | null
      signal: string | null
      reason: string
      expected: boolean
    }
  | { type: 'worker.timeout'; at: number; pid: number; generation: number; silentMs: number; request: RequestRef | null }
  | { type: 'reload.started'; at: number; reload: ReloadProgress }
  | { type: 'reload.progress'; at: number; reload: ReloadProgress }
  | { type: 'reload.done'; at: number; reload: ReloadProgress; ms: number }
  | { type: 'reload.rolledback'; at: number; reload: ReloadProgress; error: string }
  | { type: 'arbiter.state'; at: number; state: ArbiterState; error?: string }
  | { type: 'config.changed'; at: number; changes: { name: string; from: unknown; to: unknown }[] }
  | { type: 'log'; at: number; stream: 'error' | 'access'; level: LogLevel; pid: number; message: string }
  | { type: 'spans'; at: number; spans: RequestSpan[]; dropped: number }
  | { type: 'load.progress'; at: number; load: LoadProgress }
  | { type: 'load.done'; at: number; result: LoadResult }

// ---------------------------------------------------------------- commands

export type StopMode = 'graceful' | 'quick'

export type ControlCommand =
  | { cmd: 'status' }
  | { cmd: 'reload' }
  | { cmd: 'workers.add'; count?: number }
  | { cmd: 'workers.remove'; count?: number }
  | { cmd: 'workers.scale'; count: number }
  | { cmd: 'workers.kill'; pid: number; signal?: string }
  | { cmd: 'class.set'; workerClass: WorkerClassInput; threads?: number; workerConnections?: number }
  | { cmd: 'logs.reopen' }
  /** WINCH: stop every worker, keep the master and its sockets (the middle step of a USR2 upgrade). */
  | { cmd: 'workers.stopAll' }
  /** USR2: start a new master on the same sockets; answers once it is ready, both masters then serve. */
  | { cmd: 'reexec' }
  /** Go back from a USR2: this master's workers again (after WINCH), then TERM to the new master; answers once it has exited. */
  | { cmd: 'reexec.cancel' }
  | { cmd: 'stop'; mode?: StopMode }
  | { cmd: 'start' }
  | { cmd: 'app.set'; app: string }
  | { cmd: 'config.get'; name?: string }
  | { cmd: 'config.set'; name: string; value: unknown }
  /** the recent history and events the server keeps (src/shared/history.ts), for export */
  | { cmd: 'history.get' }
  | { cmd: 'load.start'; options: LoadOptions }
  | { cmd: 'load.stop' }
  | { cmd: 'experiment.run'; options: ExperimentOptions }

export type ControlCommandName = ControlCommand['cmd']

/** Stable error codes, one table with the engine's (see errors.ts); the message says what to do. */
export type { ControlErrorCode }

export interface ControlError {
  code: ControlErrorCode
  message: string
}

export interface SettingInfo {
  name: string
  value: unknown
  default: unknown
  /** Where the value came from. */
  source: 'default' | 'config' | 'env' | 'cli' | 'control'
  /** How a change takes effect: at once, at the next reload (done for you), or only on restart. */
  apply: 'live' | 'reload' | 'restart'
  type: 'string' | 'int' | 'number' | 'bool' | 'list' | 'object'
  /** the unit of a number: seconds, milliseconds or bytes */
  unit?: 's' | 'ms' | 'bytes'
  description: string
}

export type CommandResult =
  | { ok: true; data?: unknown; message?: string }
  | { ok: false; error: ControlError }

// ------------------------------------------------------------- wire frames

export type ClientFrame =
  | { type: 'hello'; protocol: number; client: string; token?: string }
  | { type: 'command'; id: number; command: ControlCommand }

export type ServerFrame =
  /** `history`: the recent points and events the server kept, oldest first, so a new client does not start blank */
  | { type: 'welcome'; protocol: number; snapshot: ArbiterSnapshot; settings: SettingInfo[]; history?: ReplayedHistory }
  | { type: 'snapshot'; snapshot: ArbiterSnapshot }
  | { type: 'event'; event: ControlEvent }
  | { type: 'result'; id: number; result: CommandResult }
  | { type: 'error'; error: ControlError }

// -------------------------------------------------------- load generator

export interface LoadOptions {
  /** Full URL, or a path on the served app (e.g. `/io?ms=100`). */
  url: string
  method?: string
  connections: number
  /** seconds; either duration or amount */
  duration?: number
  amount?: number
  /**
   * Requests per second across all connections (open loop): request k is due at
   * start + k / rate, and its latency is measured from then, so time spent waiting
   * for a free connection counts (no coordinated omission). Omitted: closed loop.
   */
  rate?: number
  keepAlive: boolean
  /** seconds of load sent before measuring starts; those requests are not counted */
  warmup?: number
  /** seconds before a request counts as a timeout */
  timeout?: number
  body?: string
  headers?: Record<string, string>
}

export interface LatencySummary {
  p50: number
  p90: number
  p99: number
  max: number
  mean: number
}

export interface LoadErrors {
  refused: number
  reset: number
  timeout: number
  non2xx: number
  other: number
}

export interface LoadProgress {
  id: number
  options: LoadOptions
  startedAt: number
  /** 0..1 */
  progress: number
  elapsedSec: number
  remainingSec: number | null
  requests: number
  /** last second */
  requestsPerSec: number
  /** mean responses per second since measuring started (compare with options.rate) */
  achievedRate?: number
  /** 'intended': from the time a request was due (open loop, options.rate); 'sent': from its write */
  latencyFrom?: 'intended' | 'sent'
  /** still in the warm-up: nothing is counted yet */
  warmingUp?: boolean
  latency: LatencySummary
  errors: LoadErrors
  /** errors by cause ("ECONNREFUSED: connection refused ..." -> count) */
  errorCauses?: Record<string, number>
  /** one entry per elapsed second */
  perSecond: { t: number; requests: number; p50: number; p99: number; errors: number }[]
  /** latency histogram buckets (ms upper bound -> count) */
  histogram: { le: number; count: number }[]
  running: boolean
  /** in an experiment (Compare models, Lessons): the subject under test, and which of how many */
  experiment?: { subject: ExperimentSubject; index: number; of: number }
}

export interface LoadResult extends LoadProgress {
  finishedAt: number
  statusCodes: Record<string, number>
  stoppedEarly: boolean
}

export interface ExperimentSubject {
  workerClass: WorkerClassName
  workers: number
  threads?: number
  workerConnections?: number
}

export interface ExperimentOptions {
  load: LoadOptions
  subjects: ExperimentSubject[]
}

export interface ExperimentResult {
  subject: ExperimentSubject
  result: LoadResult
}
