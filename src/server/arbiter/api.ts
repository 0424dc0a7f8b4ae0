/**
 * What the arbiter offers to the code that hosts it in-process: the CLI, the
 * control plane (control socket, WebSocket dashboard, metrics) and Electron main.
 * Signals sent with `kill` call exactly these methods, so the dashboard and the
 * terminal steer the same way.
 */
import type {
  ArbiterSnapshot,
  ControlEvent,
  SettingInfo,
  StopMode,
  WorkerClassInput,
} from '../../shared/protocol.js'
import type { ErrorLog } from '../log/logger.js'
import type { InheritedListener, LaunchContext } from './reexec.js'

/** How an arbiter is made: what the CLI, a dashboard host and tests pass to `new Arbiter`. */
export interface ArbiterOptions {
  /** The worker entry to fork (default: dist/server/worker/main.js next to this file). */
  workerEntry?: string
  binderEntry?: string
  /** execArgv for workers (e.g. a TS loader in development). */
  execArgv?: string[]
  log?: ErrorLog
  /**
   * Listening sockets handed down by a previous master (USR2) or by systemd (LISTEN_FDS).
   * When given they are the listeners, and the bind setting is not used: clients already
   * connect to them, and changing addresses takes a restart, as with Gunicorn.
   */
  inherited?: { from: 'usr2' | 'systemd'; listeners: InheritedListener[] }
  /** How this master was started; without it USR2 is refused (an arbiter hosted in-process cannot re-exec). */
  launch?: LaunchContext
  /** In a master started by USR2: the old master's pid while it still runs, else null. */
  oldMasterPid?: () => number | null
  /** The first generation's number (a host starting again after a stop continues the count). */
  firstGeneration?: number
}

export interface ReloadOutcome {
  /** false when the new generation failed to boot and the old one kept serving */
  ok: boolean
  generation: number
  error?: string
}

/** What became of a USR2: the new master is ready (both serve), or why there is none. */
export type ReexecOutcome = { ok: true; pid: number } | { ok: false; error: string }

export interface ArbiterApi {
  /** Engine state only (no CPU / RSS / system / queue depth: the control plane's sampler adds those). */
  snapshot(): ArbiterSnapshot
  /** Every lifecycle event, log line and span batch. Returns an unsubscribe function. */
  onEvent(listener: (event: ControlEvent) => void): () => void

  /** HUP: re-read the configuration and the app, then a readiness-gated rolling replace. */
  reload(reason?: string): Promise<ReloadOutcome>
  /** TTIN (n times). Resolves with the new target. */
  addWorkers(n?: number): number
  /** TTOU (n times); never below 1. The removed workers are drained, never cut off. */
  removeWorkers(n?: number): number
  scaleTo(n: number): number
  /** Change the worker class (and its size) with a rolling reload. */
  setWorkerClass(
    workerClass: WorkerClassInput,
    sizes?: { threads?: number; workerConnections?: number },
  ): Promise<ReloadOutcome>
  /** Send a signal to one worker (default SIGTERM). Throws PADDOCK_ERR_NO_SUCH_WORKER for a pid that is not ours. */
  killWorker(pid: number, signal?: string): void
  /** USR1 */
  reopenLogs(): void
  /** WINCH: stop all workers, keep the master and its sockets. */
  stopWorkers(): Promise<void>
  /**
   * USR2: start a new master on the same sockets. Resolves once it is ready (both masters
   * serve) or with why it could not start; this master keeps serving either way.
   */
  reexec(): Promise<ReexecOutcome>
  /** Go back from a USR2: this master's workers (started again after WINCH), then TERM to the new master. */
  cancelReexec(): Promise<ReexecOutcome>
  /** TERM (graceful) or INT / QUIT (quick). Resolves when every worker is gone and the sockets are closed. */
  stop(mode?: StopMode): Promise<void>

  /** Every setting with its value and where it came from. */
  settings(): SettingInfo[]
  /** Validate and apply one setting. Throws a PaddockError with a clear message when the value is bad. */
  setSetting(name: string, value: unknown): Promise<SettingInfo>

  /** pids of the live worker processes (for samplers). */
  workerPids(): number[]
  /**
   * Optional: the replayable events (src/shared/history.ts isReplayed) from before a control
   * server subscribed, oldest first, so a new tab sees how the workers started.
   */
  recentEvents?(): ControlEvent[]
}

/**
 * What a dashboard host adds (src/server/host): start again after a stop, open another
 * app, and the teaching kit's load generator. A plain CLI arbiter does not offer these;
 * the control plane answers PADDOCK_ERR_STATE for them there.
 */
export interface HostApi {
  start(): Promise<void>
  setApp(app: string): Promise<ReloadOutcome>
  startLoad(options: import('../../shared/protocol.js').LoadOptions): { url: string }
  stopLoad(): boolean
  runExperiment(
    options: import('../../shared/protocol.js').ExperimentOptions,
  ): Promise<{ results: import('../../shared/protocol.js').ExperimentResult[]; explanation: string }>
}

export function isHost(api: ArbiterApi): api is ArbiterApi & HostApi {
  return typeof (api as Partial<HostApi>).startLoad === 'function' && typeof (api as Partial<HostApi>).start === 'function'
}
