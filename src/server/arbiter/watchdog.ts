/**
 * The watchdog, run on every arbiter tick: the worker table must match the OS, a worker
 * silent for `timeout` is aborted (SIGABRT, then SIGKILL) with what it was running named
 * in the log, one not ready within `boot_timeout` is killed, and a worker that stays up
 * ends a run of boot failures.
 */
import type { ControlEvent } from '../../shared/protocol.js'
import type { ErrorLog } from '../log/logger.js'
import { STABLE_AFTER_MS, type BootBackoff } from './backoff.js'
import { stuckRequest, type WorkerRecord } from './worker-record.js'
import { terminate } from './worker-process.js'

/** a worker still alive this long after its SIGABRT gets SIGKILL */
const KILL_AFTER_ABORT_MS = 1000

type TimeoutEvent = Extract<ControlEvent, { type: 'worker.timeout' }>

/** What the watchdog needs from the arbiter. */
export interface WatchdogHost {
  readonly log: ErrorLog
  live(): WorkerRecord[]
  /** `timeout` (0: none) and `boot_timeout`, in ms */
  limits(): { timeoutMs: number; bootMs: number }
  /** A listed worker no longer exists: record its exit so that it is replaced. */
  vanished(w: WorkerRecord): void
  /** A silent worker is being aborted: tell the control stream. */
  timedOut(event: TimeoutEvent): void
}

export class Watchdog {
  /** workers aborted for silence (the snapshot's `timeouts`) */
  timeouts = 0

  constructor(
    private readonly host: WatchdogHost,
    private readonly backoff: BootBackoff,
  ) {}

  check(): void {
    this.checkProcessTable()
    this.checkTimeouts()
  }

  /**
   * The table must match the OS: a pid we list that no longer exists (its exit event lost,
   * or reaped by someone else) is treated as exited so that it is replaced.
   */
  private checkProcessTable(): void {
    for (const w of this.host.live()) {
      try {
        process.kill(w.pid, 0)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') continue
        this.host.log.warning(`Worker ${w.pid} is listed but no longer exists: marking it exited`)
        this.host.vanished(w)
      }
    }
  }

  private checkTimeouts(): void {
    const now = Date.now()
    const live = this.host.live()
    // A worker that stays up for a while ends a run of boot failures; one that is ready and
    // dies at once is part of the crash loop.
    if (this.backoff.failures > 0 && live.some((w) => w.state === 'ready' && w.readyAt && now - w.readyAt > STABLE_AFTER_MS)) this.backoff.succeeded()
    const { timeoutMs, bootMs } = this.host.limits()
    for (const w of live) {
      if (w.abortedAt) {
        if (now - w.abortedAt > KILL_AFTER_ABORT_MS) terminate(w, 'SIGKILL', w.reason ?? 'timeout')
        continue
      }
      if (w.state === 'booting' && now - w.spawnedAt > bootMs) {
        w.bootError = `not ready after boot_timeout ${bootMs / 1000} s`
        w.abortedAt = now
        terminate(w, 'SIGKILL', w.bootError)
        w.expectedExit = false
        continue
      }
      if (timeoutMs > 0 && (w.state === 'ready' || w.state === 'draining') && w.lastHeartbeat && now - w.lastHeartbeat > timeoutMs) {
        const request = stuckRequest(w)
        const silentMs = now - w.lastHeartbeat
        const what = request ? `while running ${request.method} ${request.url} for ${((now - request.startedAt) / 1000).toFixed(1)} s` : 'with no request in flight'
        w.reason = `WORKER TIMEOUT: silent for ${(silentMs / 1000).toFixed(1)} s ${what}`
        this.host.log.critical(`WORKER TIMEOUT (pid:${w.pid}) silent for ${(silentMs / 1000).toFixed(1)} s ${what}`)
        this.timeouts++
        this.host.timedOut({ type: 'worker.timeout', at: now, pid: w.pid, generation: w.generation, silentMs, request })
        w.abortedAt = now
        w.expectedExit = true
        try {
          process.kill(w.pid, 'SIGABRT')
        } catch {
          // gone already
        }
      }
    }
  }
}
