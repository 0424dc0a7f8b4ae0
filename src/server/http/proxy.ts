/**
 * forwarded_allow_ips + secure_scheme_headers, as in Gunicorn: only a trusted front end
 * may tell us the client's scheme. From an untrusted peer those headers are removed so
 * the app cannot be fooled into thinking a plain request was HTTPS.
 */
import type { IncomingMessage } from 'node:http'

const SECURE_SCHEME_HEADERS: Record<string, string> = { 'x-forwarded-protocol': 'ssl', 'x-forwarded-proto': 'https', 'x-forwarded-ssl': 'on' }

export function isTrusted(addr: string | undefined, allow: string): boolean {
  if (allow.trim() === '*') return true
  if (!addr) return true // unix socket peers are always trusted
  const plain = addr.startsWith('::ffff:') ? addr.slice(7) : addr
  return allow.split(',').map((s) => s.trim()).some((a) => a === plain || a === addr)
}

export function applyProxyHeaders(req: IncomingMessage, settings: Record<string, unknown>): void {
  const trusted = isTrusted(req.socket.remoteAddress, String(settings.forwarded_allow_ips ?? '127.0.0.1,::1'))
  if (trusted) return
  for (const name of Object.keys(SECURE_SCHEME_HEADERS)) delete req.headers[name]
}
