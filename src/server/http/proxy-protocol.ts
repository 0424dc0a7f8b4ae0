/**
 * The PROXY protocol (HAProxy's, versions 1 and 2): a load balancer that passes TCP on
 * (HAProxy `send-proxy`, cloud TCP balancers) says first who the client is. Read before
 * anything else on the connection, TLS included, so `PROXY then TLS` works.
 *
 *   v1  "PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\r\n"   text, at most 107 bytes
 *   v2  12-byte signature, version/command, family, length (big endian), addresses, TLVs
 *
 * The header is required from an allowed peer (the spec: a receiver must not guess whether
 * it is there) and refused from any other.
 */
import type { Socket } from 'node:net'

export type ProxyMode = 'v1' | 'v2' | 'auto'

/** The client as the proxy saw it; null for v1 UNKNOWN and v2 LOCAL (health checks): the peer stays. */
export interface ProxiedClient {
  address: string
  port: number
  family: 'IPv4' | 'IPv6'
}

export type HeaderResult = { need: 'more' } | { error: string } | { length: number; client: ProxiedClient | null }

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a])
const V1_PREFIX = Buffer.from('PROXY ')
const V1_MAX = 107
/** v2: signature, version/command, family, length */
const V2_FIXED = 16

/** true when `buf` begins like a PROXY header of either version (as far as it goes) */
export function looksLikeProxyHeader(buf: Buffer): boolean {
  const n = Math.min(buf.length, V2_SIGNATURE.length)
  if (n === 0) return false
  return buf.subarray(0, Math.min(n, V1_PREFIX.length)).equals(V1_PREFIX.subarray(0, Math.min(n, V1_PREFIX.length))) || buf.subarray(0, n).equals(V2_SIGNATURE.subarray(0, n))
}

/** Parses the header at the start of `buf`: complete, incomplete (more bytes needed) or wrong. */
export function parseProxyHeader(buf: Buffer, mode: ProxyMode): HeaderResult {
  const v1 = mode !== 'v2' && prefixMatches(buf, V1_PREFIX)
  const v2 = mode !== 'v1' && prefixMatches(buf, V2_SIGNATURE)
  if (v1 === 'yes') return parseV1(buf)
  if (v2 === 'yes') return parseV2(buf)
  if (v1 === 'maybe' || v2 === 'maybe') return { need: 'more' }
  return { error: mode === 'auto' ? 'no PROXY header' : `no PROXY ${mode} header` }
}

function prefixMatches(buf: Buffer, prefix: Buffer): 'yes' | 'maybe' | 'no' {
  const n = Math.min(buf.length, prefix.length)
  if (!buf.subarray(0, n).equals(prefix.subarray(0, n))) return 'no'
  return n === prefix.length ? 'yes' : 'maybe'
}

function parseV1(buf: Buffer): HeaderResult {
  const end = buf.indexOf('\r\n')
  if (end < 0) return buf.length >= V1_MAX ? { error: 'PROXY v1 header longer than 107 bytes' } : { need: 'more' }
  if (end + 2 > V1_MAX) return { error: 'PROXY v1 header longer than 107 bytes' }
  const parts = buf.toString('latin1', 0, end).split(' ')
  if (parts[1] === 'UNKNOWN') return { length: end + 2, client: null }
  if (parts.length !== 6) return { error: 'malformed PROXY v1 header' }
  const [, proto, src, , srcPort, dstPort] = parts as [string, string, string, string, string, string]
  const family = proto === 'TCP4' ? 'IPv4' : proto === 'TCP6' ? 'IPv6' : null
  if (!family) return { error: `PROXY v1: unknown protocol ${JSON.stringify(proto)}` }
  if (!validAddress(src, family) || !validAddress(parts[3]!, family)) return { error: 'PROXY v1: bad address' }
  if (!validPort(srcPort) || !validPort(dstPort)) return { error: 'PROXY v1: bad port' }
  return { length: end + 2, client: { address: src, port: Number(srcPort), family } }
}

function parseV2(buf: Buffer): HeaderResult {
  if (buf.length < V2_FIXED) return { need: 'more' }
  const versionCommand = buf[12]!
  if (versionCommand >> 4 !== 2) return { error: 'PROXY v2: unknown version' }
  const command = versionCommand & 0x0f
  if (command > 1) return { error: 'PROXY v2: unknown command' }
  const length = V2_FIXED + buf.readUInt16BE(14)
  if (buf.length < length) return { need: 'more' }
  // LOCAL: the proxy's own connection (a health check); the addresses, if any, are ignored
  if (command === 0) return { length, client: null }
  const family = buf[13]! >> 4
  const transport = buf[13]! & 0x0f
  if (family === 0 || transport === 0) return { length, client: null } // UNSPEC
  if (family === 1) {
    if (length < V2_FIXED + 12) return { error: 'PROXY v2: address block too short' }
    const address = [...buf.subarray(16, 20)].join('.')
    return { length, client: { address, port: buf.readUInt16BE(24), family: 'IPv4' } }
  }
  if (family === 2) {
    if (length < V2_FIXED + 36) return { error: 'PROXY v2: address block too short' }
    const groups: string[] = []
    for (let i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(16 + i).toString(16))
    return { length, client: { address: compressIPv6(groups), port: buf.readUInt16BE(48), family: 'IPv6' } }
  }
  // AF_UNIX: no address a client could be told apart by; the peer stays
  if (family === 3) return { length, client: null }
  return { error: 'PROXY v2: unknown address family' }
}

function validAddress(a: string, family: 'IPv4' | 'IPv6'): boolean {
  if (family === 'IPv4') return /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(a)
  return a.includes(':') && /^[0-9a-fA-F:.]+$/.test(a)
}

function validPort(p: string): boolean {
  return /^\d{1,5}$/.test(p) && Number(p) <= 65535
}

/** Node's own form of an IPv6 address (the longest run of zero groups as ::). */
function compressIPv6(groups: string[]): string {
  let best = -1
  let bestLen = 1
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++
      continue
    }
    let j = i
    while (j < groups.length && groups[j] === '0') j++
    if (j - i > bestLen) {
      best = i
      bestLen = j - i
    }
    i = j
  }
  if (best < 0) return groups.join(':')
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`
}

/**
 * Reads the header off `socket` without letting anything else see the bytes, then gives back
 * what followed it (unshift) so HTTP or TLS starts where the header ended.
 */
export function readProxyHeader(socket: Socket, mode: ProxyMode, timeoutMs: number, done: (result: { error: string } | { client: ProxiedClient | null }) => void): void {
  let buffered: Buffer = Buffer.alloc(0)
  let finished = false
  const finish = (result: { error: string } | { client: ProxiedClient | null }) => {
    if (finished) return
    finished = true
    clearTimeout(timer)
    socket.removeListener('readable', onReadable)
    socket.removeListener('end', onEnd)
    socket.removeListener('close', onEnd)
    done(result)
  }
  const timer = setTimeout(() => finish({ error: `no PROXY header within ${timeoutMs} ms` }), timeoutMs)
  timer.unref()
  const onEnd = () => finish({ error: 'the connection ended inside the PROXY header' })
  const onReadable = () => {
    for (let chunk: Buffer | null; (chunk = socket.read() as Buffer | null) !== null; ) {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk
      const r = parseProxyHeader(buffered, mode)
      if ('need' in r) continue
      if ('error' in r) return finish(r)
      const rest = buffered.subarray(r.length)
      if (rest.length) socket.unshift(rest)
      return finish({ client: r.client })
    }
  }
  socket.on('readable', onReadable)
  socket.once('end', onEnd)
  socket.once('close', onEnd)
}

/**
 * The first bytes of a connection from a peer not allowed to send a header: a PROXY header
 * there means a proxy we do not trust (close); anything else is served as it is.
 */
export function peekForProxyHeader(socket: Socket, timeoutMs: number, done: (sentHeader: boolean) => void): void {
  let finished = false
  const finish = (header: boolean) => {
    if (finished) return
    finished = true
    clearTimeout(timer)
    socket.removeListener('readable', onReadable)
    done(header)
  }
  // silence is left to the HTTP or TLS timeouts that follow
  const timer = setTimeout(() => finish(false), timeoutMs)
  timer.unref()
  const onReadable = () => {
    const chunk = socket.read() as Buffer | null
    if (chunk === null) return
    socket.unshift(chunk)
    finish(looksLikeProxyHeader(chunk))
  }
  socket.on('readable', onReadable)
}
