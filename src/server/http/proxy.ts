/**
 * forwarded_allow_ips + secure_scheme_headers, as in Gunicorn: only a trusted front end
 * may tell us the client's scheme. From an untrusted peer those headers are removed so
 * the app cannot be fooled into thinking a plain request was HTTPS.
 */
import type { IncomingMessage } from 'node:http'

const SECURE_SCHEME_HEADERS: Record<string, string> = { 'x-forwarded-protocol': 'ssl', 'x-forwarded-proto': 'https', 'x-forwarded-ssl': 'on' }

const parsed = new Map<string, Set<string> | '*'>()

function allowList(allow: string): Set<string> | '*' {
  let list = parsed.get(allow)
  if (!list) {
    list = allow.trim() === '*' ? '*' : new Set(allow.split(',').map((s) => s.trim()))
    parsed.set(allow, list)
  }
  return list
}

export function isTrusted(addr: string | undefined, allow: string): boolean {
  const list = allowList(allow)
  if (list === '*') return true
  if (!addr) return true // unix socket peers are always trusted
  return list.has(addr) || (addr.startsWith('::ffff:') && list.has(addr.slice(7)))
}

/**
 * Scans the raw header names, so that a request without any of these headers never pays
 * for `req.headers` (Node builds that object lazily, on first access).
 */
function hasSecureSchemeHeader(raw: string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    if (name.length >= 15 && name.length <= 20 && (name.charCodeAt(0) | 0x20) === 0x78 /* x */ && SECURE_SCHEME_HEADERS[name.toLowerCase()] !== undefined) return true
  }
  return false
}

export function applyProxyHeaders(req: IncomingMessage, settings: Record<string, unknown>): void {
  if (!hasSecureSchemeHeader(req.rawHeaders)) return
  const trusted = isTrusted(req.socket.remoteAddress, String(settings.forwarded_allow_ips ?? '127.0.0.1,::1'))
  if (trusted) return
  for (const name of Object.keys(SECURE_SCHEME_HEADERS)) delete req.headers[name]
}
