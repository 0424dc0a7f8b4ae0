/**
 * A setting changed on a running server (`ctl config set`, the dashboard's Settings view) is
 * applied for real or refused with the reason. Before this check, `bind` took "not a bind"
 * and a new address, reloaded twice and kept listening on the old port while the table
 * showed the new value, and an empty `timeout` became null (issue 19).
 */
import { PaddockError } from '../errors.js'
import { checkWorkerCount } from './limits.js'
import { coerceSetting, describe, specFor } from './validate.js'
import { defaultValue, type SettingSpec } from './settings.js'

/** Returns the value as the engine will use it, or throws PADDOCK_ERR_INVALID_VALUE / PADDOCK_ERR_UNKNOWN_SETTING. */
export function checkLiveChange(name: string, raw: unknown, current: Record<string, unknown>, targetWorkers: number): unknown {
  const spec = specFor(name)
  const refuse = (why: string) => new PaddockError('PADDOCK_ERR_INVALID_VALUE', `${spec.name} (${describe(spec)}): ${why}`)
  if (spec.apply === 'restart') {
    throw refuse(`applies only when the server starts (the running server keeps ${JSON.stringify(current[spec.name])}); set it in the config file or on the command line and restart`)
  }
  const empty = raw === null || raw === undefined || (typeof raw === 'string' && raw.trim() === '' && spec.type !== 'string')
  if (empty && !nullable(spec)) throw refuse('needs a value')
  const value = coerceSetting(spec, raw, 'control')
  if (spec.name === 'workers') checkWorkerCount(Number(value), Number(current.max_workers))
  if (spec.name === 'max_workers' && Number(value) < targetWorkers) {
    throw refuse(`${targetWorkers} workers are wanted now, above ${String(value)}: scale down first`)
  }
  return value
}

function nullable(spec: SettingSpec): boolean {
  return defaultValue(spec) === null
}
