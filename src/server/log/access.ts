/**
 * Access log lines with Gunicorn's atoms, e.g. the default
 *   %(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"
 * Missing values print '-'; quotes and control characters are escaped so a client
 * cannot forge log lines. With `--log-format json` each line is instead one JSON object
 * with a readable field per atom of the format (JSON.stringify escapes every control
 * character, so a line always parses whatever the client sent).
 */
export interface AccessAtoms {
  remoteAddress: string
  method: string
  url: string
  httpVersion: string
  status: number
  bytes: number
  durationMs: number
  pid: number
  at: Date
  requestHeaders: Record<string, string | string[] | undefined>
  responseHeaders: Record<string, unknown>
  env?: NodeJS.ProcessEnv
  /** http or https (TLS at paddock's edge): Gunicorn's %({wsgi.url_scheme}e)s */
  scheme?: string
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

function clfTime(d: Date): string {
  const pad = (n: number) => String(Math.abs(n)).padStart(2, '0')
  const off = -d.getTimezoneOffset()
  const tz = `${off >= 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}${pad(Math.abs(off) % 60)}`
  return `[${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${tz}]`
}

function escape(v: string): string {
  // eslint-disable-next-line no-control-regex
  return v.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

function header(h: Record<string, unknown>, name: string): string {
  const v = h[name.toLowerCase()]
  if (v === undefined || v === null || v === '') return '-'
  return Array.isArray(v) ? v.join(', ') : String(v)
}

function basicUser(auth: string | string[] | undefined): string {
  if (typeof auth !== 'string' || !/^basic /i.test(auth)) return '-'
  const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8')
  const i = decoded.indexOf(':')
  return i > 0 ? decoded.slice(0, i) : '-'
}

/** The JSON field each atom becomes; headers and environment atoms go to nested objects. */
export const ACCESS_ATOM_FIELDS: Readonly<Record<string, string>> = {
  h: 'remote_addr',
  l: 'ident',
  u: 'user',
  t: 'time',
  r: 'request',
  m: 'method',
  U: 'path',
  q: 'query',
  H: 'protocol',
  s: 'status',
  B: 'bytes',
  b: 'bytes',
  f: 'referer',
  a: 'user_agent',
  T: 'duration_s',
  M: 'duration_ms',
  D: 'duration_us',
  L: 'duration',
  p: 'pid',
}
const NUMERIC_ATOMS = new Set(['s', 'B', 'b', 'T', 'M', 'D', 'L', 'p'])
const ATOM = /%\(([^)]+)\)s/g

export type LogFormat = 'text' | 'json'

export function formatAccessLog(format: string, a: AccessAtoms, as: LogFormat = 'text'): string {
  return as === 'json' ? accessJson(format, a) : accessText(format, a)
}

function accessJson(format: string, a: AccessAtoms): string {
  const line: Record<string, unknown> = { time: a.at.toISOString(), level: 'info', pid: a.pid, type: 'access' }
  for (const [, name] of format.matchAll(ATOM)) {
    const m = /^\{(.+)\}([ioe])$/.exec(name)
    if (m) {
      const group = m[2] === 'i' ? 'request_headers' : m[2] === 'o' ? 'response_headers' : 'env'
      const bag = (line[group] ??= {}) as Record<string, string | null>
      const v = atomValue(a, name)
      bag[m[1].toLowerCase()] = v === '-' ? null : v
      continue
    }
    const field = ACCESS_ATOM_FIELDS[name]
    if (!field) continue
    if (name === 't') continue // `time` above, in ISO form
    if (name === 'p') continue
    const v = atomValue(a, name)
    line[field] = v === '-' ? null : NUMERIC_ATOMS.has(name) ? Number(v) : v
  }
  return JSON.stringify(line)
}

function accessText(format: string, a: AccessAtoms): string {
  return format.replace(ATOM, (_, name: string) => escape(atomValue(a, name)))
}

function atomValue(a: AccessAtoms, name: string): string {
  const m = /^\{(.+)\}([ioe])$/.exec(name)
  if (m) {
    if (m[2] === 'i') return header(a.requestHeaders, m[1])
    if (m[2] === 'o') return header(a.responseHeaders, m[1])
    if (m[1] === 'wsgi.url_scheme') return a.scheme ?? 'http'
    return (a.env ?? process.env)[m[1]] ?? '-'
  }
  switch (name) {
    case 'h': return a.remoteAddress || '-'
    case 'l': return '-'
    case 'u': return basicUser(a.requestHeaders.authorization)
    case 't': return clfTime(a.at)
    case 'r': return `${a.method} ${a.url} HTTP/${a.httpVersion}`
    case 'm': return a.method
    case 'U': return a.url.split('?', 1)[0]
    case 'q': return a.url.includes('?') ? a.url.slice(a.url.indexOf('?') + 1) : ''
    case 'H': return `HTTP/${a.httpVersion}`
    case 's': return String(a.status)
    case 'B': return String(a.bytes)
    case 'b': return a.bytes > 0 ? String(a.bytes) : '-'
    case 'f': return header(a.requestHeaders, 'referer')
    case 'a': return header(a.requestHeaders, 'user-agent')
    case 'T': return String(Math.floor(a.durationMs / 1000))
    case 'M': return String(Math.round(a.durationMs))
    case 'D': return String(Math.round(a.durationMs * 1000))
    case 'L': return (a.durationMs / 1000).toFixed(6)
    case 'p': return `<${a.pid}>`
    default: return '-'
  }
}
