/**
 * Running a user hook that may return a promise: awaited, but never longer than its bound
 * (--boot-timeout on the way in, --graceful-timeout on the way out), so a hook that hangs
 * cannot hold a worker or the master forever. A hook that throws, rejects or runs out of
 * time is one log line, and paddock carries on; a hook that keeps running past its bound
 * is left to finish in the background (or to be cut off when the process exits).
 */
import { describeError } from './errors.js'
import type { LogLevel } from '../shared/protocol.js'

export interface Bound {
  ms: number
  /** the setting that sets it, for the log line: '--graceful-timeout' */
  setting: string
}

/** `what` names it in the log: 'hook worker_exit', 'app close()' */
export async function runBounded(
  what: string,
  fn: ((...args: unknown[]) => unknown) | undefined,
  args: unknown[],
  bound: Bound,
  log: (level: LogLevel, message: string) => void,
): Promise<void> {
  if (!fn) return
  let timer: NodeJS.Timeout | undefined
  try {
    const result = fn(...args)
    if (!result || typeof (result as Promise<unknown>).then !== 'function') return
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(0, bound.ms))))
    const outcome = await Promise.race([Promise.resolve(result).then(() => 'done' as const), timedOut])
    if (outcome === 'timeout') log('error', `${what} did not finish within ${(bound.ms / 1000).toFixed(1)} s (${bound.setting}): carrying on without it`)
  } catch (err) {
    log('error', `${what} raised: ${describeError(err)}`)
  } finally {
    if (timer) clearTimeout(timer)
  }
}
