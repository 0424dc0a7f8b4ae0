/**
 * The crash-loop back-off, as a policy: a worker that fails to boot, or dies soon after it
 * became ready, counts as one failure in a row; each one doubles the wait before the next
 * spawn, and a run of them ends in the visible `errored` state instead of spinning. No
 * timers and no processes here: the arbiter asks (bootFailureVerdict, BootBackoff.maySpawn)
 * and does what it is told.
 */

/** A worker ready this long ends a run of failures; one dying sooner is part of it. */
export const STABLE_AFTER_MS = 2000

export interface BackoffPolicy {
  /** the wait after the first failure is twice this */
  baseMs: number
  capMs: number
  /** this many failures in a row: no more respawns until a reload */
  maxFailures: number
}

export const BOOT_BACKOFF: BackoffPolicy = { baseMs: 100, capMs: 10_000, maxFailures: 5 }

/** The policy from the settings (`restart_backoff`, `restart_backoff_max` in seconds, `crash_loop_limit`); a missing one keeps its default. */
export function backoffPolicy(settings: Record<string, unknown>): BackoffPolicy {
  const seconds = (v: unknown, fallbackMs: number) => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v * 1000) : fallbackMs)
  return {
    baseMs: seconds(settings.restart_backoff, BOOT_BACKOFF.baseMs),
    capMs: seconds(settings.restart_backoff_max, BOOT_BACKOFF.capMs),
    maxFailures: typeof settings.crash_loop_limit === 'number' ? settings.crash_loop_limit : BOOT_BACKOFF.maxFailures,
  }
}

/** The wait before the next spawn after `failuresInARow` failures (counting the last one), or `errored`. */
export function nextBootDelay(failuresInARow: number, policy: BackoffPolicy = BOOT_BACKOFF): number | 'errored' {
  if (failuresInARow >= policy.maxFailures) return 'errored'
  return Math.min(policy.baseMs * 2 ** failuresInARow, policy.capMs)
}

/**
 * Whether an exit counts toward a crash loop: an unexpected one before the worker was
 * ready (unless it was already draining), or within STABLE_AFTER_MS of it. Returns null
 * when it does not, else how long the worker had been ready (undefined: never).
 */
export function crashLoopExit(exit: { readyAt: number | null; expected: boolean; wasDraining: boolean }, now: number): { upMs?: number } | null {
  if (exit.expected) return null
  if (exit.readyAt === null) return exit.wasDraining ? null : {}
  const upMs = now - exit.readyAt
  return upMs < STABLE_AFTER_MS ? { upMs } : null
}

/** Worker exit codes that say the app cannot run at all: 3, it could not switch user (--user); 4, the app did not load. */
const CANNOT_BOOT_EXITS: readonly (number | null)[] = [3, 4]

/** One boot failure (or a death soon after ready), as the arbiter sees it. */
export interface BootFailure {
  /** failures in a row, this one counted */
  failures: number
  /** a reload is running and the worker was of its new generation */
  ofReloadingGeneration: boolean
  /** a worker of this arbiter was ready at some time */
  everReady: boolean
  exitCode: number | null
  /** start() still waits for its first ready worker */
  startPending: boolean
  /** the worker had been ready this long (undefined: never) */
  upMs?: number
  /** why the worker exited */
  reason: string
  policy: BackoffPolicy
}

/** What the arbiter does about it. */
export type BootFailureVerdict =
  /** the reload's generation cannot boot: the old one keeps serving (reload.ts rollBack) */
  | { do: 'roll back' }
  /** the very first generation cannot load the app: the start fails at once with the cause, as Gunicorn's does */
  | { do: 'fail start'; message: string }
  /** a run of policy.maxFailures: `errored`, no more respawns until a reload */
  | { do: 'errored'; message: string }
  /** spawn again after `ms` */
  | { do: 'wait'; ms: number; message: string }

export function bootFailureVerdict(f: BootFailure): BootFailureVerdict {
  if (f.ofReloadingGeneration) return { do: 'roll back' }
  if (!f.everReady && CANNOT_BOOT_EXITS.includes(f.exitCode) && f.startPending) return { do: 'fail start', message: f.reason }
  const delay = nextBootDelay(f.failures, f.policy)
  if (delay === 'errored') return { do: 'errored', message: `workers keep failing (${f.failures} times in a row), no more respawns until a reload: ${f.reason}` }
  const what = f.upMs === undefined ? 'Worker boot failure' : `Worker died ${(f.upMs / 1000).toFixed(1)} s after it was ready, counted as a crash`
  return { do: 'wait', ms: delay, message: `${what} ${f.failures}/${f.policy.maxFailures} in a row; next spawn in ${delay} ms` }
}

/** The failures in a row and when the next spawn may happen. */
export class BootBackoff {
  private inARow = 0
  private nextSpawnAt = 0

  get failures(): number {
    return this.inARow
  }

  /** One more failure; returns how many in a row now. */
  failed(): number {
    return ++this.inARow
  }

  /** the next spawn waits until `at` */
  waitUntil(at: number): void {
    this.nextSpawnAt = at
  }

  maySpawn(now: number): boolean {
    return now >= this.nextSpawnAt
  }

  /** A worker stayed up past STABLE_AFTER_MS: the run is over (a wait already set still holds). */
  succeeded(): void {
    this.inARow = 0
  }

  /** A reload starts afresh: no failures, no wait. */
  reset(): void {
    this.inARow = 0
    this.nextSpawnAt = 0
  }
}
