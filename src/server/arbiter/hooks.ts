/**
 * Server hooks (Gunicorn's names: on_starting, pre_fork, child_exit, ...): a hook that
 * throws or rejects is logged and never stops the arbiter. The ones the master waits for
 * (on_starting, when_ready, on_exit) are awaited within a bound (runBoundedHook); the others
 * run alongside the arbiter's work.
 */
import { describeError } from '../errors.js'
import { runBounded, type Bound } from '../bounded-hook.js'
import type { ErrorLog } from '../log/logger.js'
import type { ResolvedConfig } from '../config/resolve.js'

export function runHook(hooks: ResolvedConfig['hooks'], log: ErrorLog, name: string, args: unknown[]): void {
  const fn = hooks[name as keyof ResolvedConfig['hooks']]
  if (!fn) return
  try {
    const r = fn(...args)
    if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).catch((err) => log.error(`hook ${name} raised: ${describeError(err)}`))
  } catch (err) {
    log.error(`hook ${name} raised: ${describeError(err)}`)
  }
}

/** Await a hook that may return a promise, for at most `bound` (see bounded-hook.ts). */
export function runBoundedHook(hooks: ResolvedConfig['hooks'], log: ErrorLog, name: string, args: unknown[], bound: Bound): Promise<void> {
  return runBounded(`hook ${name}`, hooks[name as keyof ResolvedConfig['hooks']], args, bound, (level, message) => log.log(level, message))
}

/** The master's hooks, from the configuration as it is now (a reload may bring new ones). */
export class ServerHooks {
  constructor(
    private readonly config: () => ResolvedConfig,
    private readonly log: ErrorLog,
  ) {}

  run(name: string, ...args: unknown[]): void {
    runHook(this.config().hooks, this.log, name, args)
  }

  /** The hooks the master waits for: on the way in within --boot-timeout, on_exit within --graceful-timeout. */
  wait(name: 'on_starting' | 'when_ready' | 'on_exit', server: unknown): Promise<void> {
    const s = this.config().settings
    const bound = name === 'on_exit'
      ? { ms: Number(s.graceful_timeout) * 1000, setting: '--graceful-timeout' }
      : { ms: Number(s.boot_timeout) * 1000, setting: '--boot-timeout' }
    return runBoundedHook(this.config().hooks, this.log, name, [server], bound)
  }
}
