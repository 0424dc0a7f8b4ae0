/**
 * forwarded_allow_ips + secure_scheme_headers, as in Gunicorn: only a trusted front end
 * may tell us the client's scheme. From an untrusted peer those headers are removed so
 * the app cannot be fooled into thinking a plain request was HTTPS.
 */
import type { IncomingMessage } from 'node:http'
import net from 'node:net'
import { kStripped } from '../symbols.js'

/** Gunicorn's default secure_scheme_headers, lower-cased */
const DEFAULT_SCHEME_HEADERS: Record<string, string> = { 'x-forwarded-protocol': 'ssl', 'x-forwarded-proto': 'https', 'x-forwarded-ssl': 'on' }

interface SchemeHeaders {
  /** lower-case name -> value that means HTTPS */
  byName: Record<string, string>
  /** the shortest and longest name, for a cheap scan of the raw headers */
  shortest: number
  longest: number
}

const schemeHeadersOf = new WeakMap<object, SchemeHeaders>()

/** The secure_scheme_headers setting, parsed once per settings object. */
function schemeHeaders(settings: Record<string, unknown>): SchemeHeaders {
  let h = schemeHeadersOf.get(settings)
  if (!h) {
    const given = settings.secure_scheme_headers
    const byName: Record<string, string> = Object.create(null)
    if (given && typeof given === 'object') for (const [k, v] of Object.entries(given)) byName[k.toLowerCase()] = String(v)
    else Object.assign(byName, DEFAULT_SCHEME_HEADERS)
    const lengths = Object.keys(byName).map((k) => k.length)
    h = { byName, shortest: lengths.length ? Math.min(...lengths) : 1, longest: lengths.length ? Math.max(...lengths) : 0 }
    schemeHeadersOf.set(settings, h)
  }
  return h
}

type AllowList = { any: true } | { any: false; exact: Set<string>; subnets: net.BlockList }

const parsed = new Map<string, AllowList>()

export type AllowEntry = { item: string; address: string; family: 'ipv4' | 'ipv6'; prefix?: number } | { item: string; error: string }

/**
 * The entries of a forwarded_allow_ips value other than "*": addresses and CIDR subnets,
 * as in Gunicorn. The one parser for both the check at start-up and the trust decision.
 */
export function allowListEntries(value: string): AllowEntry[] {
  return value
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map((item) => {
      const [address, bits, extra] = item.split('/')
      const v = net.isIP(address!)
      if (!v || extra !== undefined) return { item, error: `"${item}" is not an IP address or a CIDR subnet` }
      const family = v === 4 ? 'ipv4' : 'ipv6'
      if (bits === undefined) return { item, address: address!, family }
      if (!/^\d+$/.test(bits) || Number(bits) > (v === 4 ? 32 : 128)) return { item, error: `"${item}" has a bad prefix length` }
      return { item, address: address!, family, prefix: Number(bits) }
    })
}

/** Parsed once per value. */
function allowList(allow: string): AllowList {
  let list = parsed.get(allow)
  if (!list) {
    if (allow.trim() === '*') list = { any: true }
    else {
      const exact = new Set<string>()
      const subnets = new net.BlockList()
      for (const e of allowListEntries(allow)) {
        // refused at start-up (config validation); should one get here, it trusts nobody
        if ('error' in e) continue
        if (e.prefix === undefined) exact.add(e.address)
        else subnets.addSubnet(e.address, e.prefix, e.family)
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
function hasSecureSchemeHeader(raw: string[], h: SchemeHeaders): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    if (name.length >= h.shortest && name.length <= h.longest && h.byName[name.toLowerCase()] !== undefined) return true
  }
  return false
}

export function applyProxyHeaders(req: IncomingMessage, settings: Record<string, unknown>): void {
  const h = schemeHeaders(settings)
  if (!hasSecureSchemeHeader(req.rawHeaders, h)) return
  const trusted = isTrusted(req.socket.remoteAddress, String(settings.forwarded_allow_ips ?? '127.0.0.1,::1'))
  if (trusted) return
  for (const name of Object.keys(h.byName)) delete req.headers[name]
  ;(req as IncomingMessage & { [kStripped]?: boolean })[kStripped] = true
}
