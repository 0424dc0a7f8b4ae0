import { PaddockError } from '../errors.js'
import { allowListEntries } from '../http/proxy.js'
import { SETTINGS_BY_NAME, type SettingSpec } from './settings.js'

/** Coerce a raw value (string from argv / env, or any JS value from a config file) and check it. */
export function coerceSetting(spec: SettingSpec, raw: unknown, origin: string): unknown {
  const bad = (why: string) =>
    new PaddockError('PADDOCK_ERR_CONFIG', `invalid value for ${describe(spec)} (${origin}): ${JSON.stringify(raw)}: ${why}`)
  if (raw === null || raw === undefined) return null
  switch (spec.type) {
    case 'int':
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN
      if (!Number.isFinite(n)) throw bad('not a number')
      if (spec.type === 'int' && !Number.isInteger(n)) throw bad('not a whole number')
      if (spec.min !== undefined && n < spec.min) throw bad(`must be at least ${spec.min}`)
      return n
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw
      if (typeof raw === 'string' && /^(1|true|yes|on)$/i.test(raw)) return true
      if (typeof raw === 'string' && /^(0|false|no|off)$/i.test(raw)) return false
      throw bad('expected true or false')
    }
    case 'list': {
      const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : null
      if (!list || list.some((v) => typeof v !== 'string')) throw bad('expected a string or a list of strings')
      if (spec.name === 'bind') for (const b of list) checkBind(b, bad)
      if (spec.name === 'raw_env') for (const e of list) if (!/^[^=]+=/.test(e)) throw bad(`"${e}" is not KEY=VALUE`)
      return list
    }
    case 'object':
      if (typeof raw !== 'object' || Array.isArray(raw)) throw bad('expected an object')
      if (spec.name === 'secure_scheme_headers') for (const [k, v] of Object.entries(raw)) if (typeof v !== 'string') throw bad(`header ${k}: the value must be a string`)
      return raw
    default: {
      if (typeof raw !== 'string' && typeof raw !== 'number') throw bad('expected a string')
      const s = String(raw)
      if (spec.choices && !spec.choices.includes(s)) throw bad(`expected one of ${spec.choices.join(', ')}`)
      if (spec.name === 'forwarded_allow_ips' || spec.name === 'proxy_allow_from') checkAllowList(s, bad)
      return s
    }
  }
}

/** "*" or a comma list of addresses and CIDR subnets (Gunicorn's forwarded_allow_ips). */
function checkAllowList(value: string, bad: (why: string) => Error): void {
  if (value.trim() === '*') return
  for (const e of allowListEntries(value)) if ('error' in e) throw bad(e.error)
}

function checkBind(b: string, bad: (why: string) => Error): void {
  if (b.startsWith('unix:')) {
    if (b.length <= 5) throw bad('unix: needs a path')
    return
  }
  if (b.startsWith('fd://')) {
    if (!/^fd:\/\/\d+$/.test(b)) throw bad('fd:// needs a file descriptor number')
    return
  }
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]*)(?::(\d+))?$/.exec(b)
  if (!m) throw bad('expected HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N')
  if (m[2] !== undefined && Number(m[2]) > 65535) throw bad('port out of range')
}

export function describe(spec: SettingSpec): string {
  return spec.flag ? `--${spec.flag}` : spec.name
}

export function specFor(name: string): SettingSpec {
  const spec = SETTINGS_BY_NAME.get(name)
  if (!spec) throw new PaddockError('PADDOCK_ERR_UNKNOWN_SETTING', `unknown setting "${name}"`)
  return spec
}
