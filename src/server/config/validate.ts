import { PaddockError } from '../errors.js'
import { allowListEntries } from '../http/proxy.js'
import { SETTINGS_BY_NAME, type SettingSpec } from './settings.js'
import { usableCpus } from '../platform/cpus.js'
import { parseSize } from '../platform/size.js'
import { parseUmask } from '../platform/identity.js'

/** What a word a number setting takes stands for (settings.ts `words`). */
function wordValue(spec: SettingSpec, word: string): number {
  if (spec.name === 'workers' && word === 'max') return usableCpus().count
  throw new PaddockError('PADDOCK_ERR_CONFIG', `${describe(spec)}: no meaning for "${word}"`)
}

/** Coerce a raw value (string from argv / env, or any JS value from a config file) and check it. */
export function coerceSetting(spec: SettingSpec, raw: unknown, origin: string): unknown {
  const bad = (why: string) =>
    new PaddockError('PADDOCK_ERR_CONFIG', `invalid value for ${describe(spec)} (${origin}): ${JSON.stringify(raw)}: ${why}`)
  if (raw === null || raw === undefined) return null
  switch (spec.type) {
    case 'int':
    case 'number': {
      if (typeof raw === 'string' && spec.words?.includes(raw.trim())) return wordValue(spec, raw.trim())
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
      if (spec.name === 'max_worker_memory') checkSize(s, bad)
      if (spec.name === 'umask') {
        try {
          parseUmask(s)
        } catch {
          throw bad('expected an octal mode such as 027')
        }
      }
      return s
    }
  }
}

function checkSize(value: string, bad: (why: string) => Error): void {
  try {
    parseSize(value)
  } catch (err) {
    throw bad((err as Error).message)
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

/** 127.0.0.0/8, ::1 and localhost: addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h)
}

/**
 * The TCP control endpoint's settings taken together, before anything starts: it needs a
 * token file; TLS needs both halves; a non-loopback address without TLS would carry the token
 * and every command in clear, so it is refused; and it never shares a port with the app.
 */
export function checkControlEndpoint(settings: Record<string, unknown>): void {
  const bind = settings.control_bind as string | null | undefined
  const tlsFlags = ['control_token_file', 'control_certfile', 'control_keyfile', 'control_ca_certs'] as const
  if (!bind) {
    const stray = tlsFlags.find((f) => settings[f])
    if (stray) throw new PaddockError('PADDOCK_ERR_CONFIG', `--${specFor(stray).flag} has no effect without --control-bind HOST:PORT`)
    return
  }
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d+)$/.exec(bind.trim())
  if (!m || Number(m[2]) > 65535) throw new PaddockError('PADDOCK_ERR_CONFIG', `invalid value for --control-bind: "${bind}": expected HOST:PORT or [IPv6]:PORT`)
  const host = m[1]!
  const port = Number(m[2])
  if (!settings.control_token_file) throw new PaddockError('PADDOCK_ERR_CONFIG', '--control-bind needs --control-token-file FILE: the TCP control endpoint only serves clients that present its token')
  if (Boolean(settings.control_certfile) !== Boolean(settings.control_keyfile)) throw new PaddockError('PADDOCK_ERR_CONFIG', 'TLS for the control endpoint needs both --control-certfile and --control-keyfile')
  if (settings.control_ca_certs && !settings.control_certfile) throw new PaddockError('PADDOCK_ERR_CONFIG', '--control-ca-certs (client certificates) needs TLS: add --control-certfile and --control-keyfile')
  if (!isLoopbackHost(host) && !settings.control_certfile) {
    throw new PaddockError('PADDOCK_ERR_CONFIG', `--control-bind ${bind} is reachable from other machines but has no TLS: the token and every command would cross the network in clear; add --control-certfile and --control-keyfile, or bind 127.0.0.1 and tunnel to it (docs/fleet.md)`)
  }
  const appBinds = (settings.bind as string[] | undefined) ?? []
  for (const b of appBinds) {
    const am = /:(\d+)$/.exec(b)
    if (!b.startsWith('unix:') && !b.startsWith('fd://') && am && Number(am[1]) === port && port !== 0) {
      throw new PaddockError('PADDOCK_ERR_CONFIG', `--control-bind ${bind} uses the port of the app's --bind ${b}: the control endpoint never serves on the application's port; pick another port`)
    }
  }
}
