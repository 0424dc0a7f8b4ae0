/**
 * forwarded_allow_ips + secure_scheme_headers, as in Gunicorn: only a trusted front end
 * may tell us the client's scheme. From an untrusted peer those headers are removed so
 * the app cannot be fooled into thinking a plain request was HTTPS.
 */
import type { IncomingMessage } from 'node:http'
import net from 'node:net'

const SECURE_SCHEME_HEADERS: Record<string, string> = { 'x-forwarded-protocol': 'ssl', 'x-forwarded-proto': 'https', 'x-forwarded-ssl': 'on' }

type AllowList = { any: true } | { any: false; exact: Set<string>; subnets: net.BlockList }

const parsed = new Map<string, AllowList>()

/** "127.0.0.1,::1", "10.0.0.0/8, fd00::/8", or "*", as in Gunicorn; parsed once per value. */
function allowList(allow: string): AllowList {
  let list = parsed.get(allow)
  if (!list) {
    if (allow.trim() === '*') list = { any: true }
    else {
      const exact = new Set<string>()
      const subnets = new net.BlockList()
      for (const item of allow.split(',').map((s) => s.trim()).filter(Boolean)) {
        const slash = item.indexOf('/')
        if (slash < 0) exact.add(item)
        else {
          const base = item.slice(0, slash)
          const family = net.isIPv6(base) ? 'ipv6' : 'ipv4'
          // a malformed entry trusts nobody rather than failing the request
          if (net.isIP(base)) subnets.addSubnet(base, Number(item.slice(slash + 1)), family)
        }
      }
      list = { any: false, exact, subnets }
    }
    parsed.set(allow, list)
  }
  return list
}

export function isTrusted(addr: string | undefined, allow: string): boolean {
  const list = allowList(allow)
  if (list.any) return true
  if (!addr) return true // unix socket peers are always trusted
  const v4 = addr.startsWith('::ffff:') ? addr.slice(7) : null
  if (list.exact.has(addr) || (v4 !== null && list.exact.has(v4))) return true
  if (v4 !== null && net.isIPv4(v4)) return list.subnets.check(v4, 'ipv4')
  return list.subnets.check(addr, net.isIPv6(addr) ? 'ipv6' : 'ipv4')
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
