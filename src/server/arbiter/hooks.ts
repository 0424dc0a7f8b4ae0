/**
 * Server hooks (Gunicorn's names: on_starting, pre_fork, child_exit, ...): a hook that
 * throws or rejects is logged and never stops the arbiter.
 */
import { describeError } from '../errors.js'
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
