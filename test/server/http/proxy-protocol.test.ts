/**
 * The PROXY protocol (v1 and v2) in front of every class: the header's client becomes the
 * peer the app, gthread's threads and the access log see; a header from a peer not allowed,
 * a malformed or truncated one, or none within the header timeout closes the connection
 * before anything reaches the app.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import net from 'node:net'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseProxyHeader } from '../../../src/server/http/proxy-protocol.js'
import { FIXTURES, startPaddock, stopAll, waitForWorkers, type Paddock } from '../../helpers/proc.js'

const v1 = (client = '203.0.113.7', port = 5555) => Buffer.from(`PROXY TCP4 ${client} 10.0.0.1 ${port} 443\r\n`)

function v2(family: 4 | 6, command: 'PROXY' | 'LOCAL' = 'PROXY'): Buffer {
  const sig = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a])
  const addr = family === 4 ? Buffer.from([198, 51, 100, 9, 10, 0, 0, 1, 0x1f, 0x90, 0x01, 0xbb]) : Buffer.concat([Buffer.from('20010db8000000000000000000000042', 'hex'), Buffer.alloc(16), Buffer.from([0x1f, 0x91, 0x01, 0xbb])])
  // a TLV after the addresses (PP2_TYPE_NOOP) must be skipped
  const tlv = Buffer.from([0x04, 0x00, 0x02, 0xaa, 0xbb])
  const body = Buffer.concat([addr, tlv])
  const head = Buffer.from([command === 'PROXY' ? 0x21 : 0x20, family === 4 ? 0x11 : 0x21, body.length >> 8, body.length & 0xff])
  return Buffer.concat([sig, head, body])
}

describe('PROXY header parsing', () => {
  it('reads v1 TCP4, TCP6 and UNKNOWN, and v2 IPv4, IPv6 and LOCAL, with the length it took', () => {
    expect(parseProxyHeader(Buffer.concat([v1(), Buffer.from('GET /')]), 'auto')).toEqual({ length: v1().length, client: { address: '203.0.113.7', port: 5555, family: 'IPv4' } })
    expect(parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::1 ::1 4000 443\r\n'), 'v1')).toMatchObject({ client: { address: '2001:db8::1', port: 4000, family: 'IPv6' } })
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'), 'auto')).toEqual({ length: 15, client: null })
    expect(parseProxyHeader(v2(4), 'v2')).toEqual({ length: v2(4).length, client: { address: '198.51.100.9', port: 8080, family: 'IPv4' } })
    expect(parseProxyHeader(v2(6), 'auto')).toMatchObject({ client: { address: '2001:db8::42', port: 8081, family: 'IPv6' } })
    expect(parseProxyHeader(v2(4, 'LOCAL'), 'auto')).toMatchObject({ client: null })
  })

  it('asks for more bytes while a header is incomplete and refuses a wrong one', () => {
    expect(parseProxyHeader(v1().subarray(0, 10), 'auto')).toEqual({ need: 'more' })
    expect(parseProxyHeader(v2(6).subarray(0, 20), 'auto')).toEqual({ need: 'more' })
    expect(parseProxyHeader(Buffer.from('GET / HTTP/1.1\r\n'), 'auto')).toHaveProperty('error')
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.999 10.0.0.1 1 2\r\n'), 'auto')).toHaveProperty('error')
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4 10.0.0.1 99999 2\r\n'), 'auto')).toHaveProperty('error')
    expect(parseProxyHeader(Buffer.from(`PROXY TCP4 ${'1'.repeat(120)}`), 'auto')).toHaveProperty('error')
    // a version the setting does not allow
    expect(parseProxyHeader(v1(), 'v2')).toHaveProperty('error')
    expect(parseProxyHeader(v2(4), 'v1')).toHaveProperty('error')
  })
})

/** Writes `parts` in order (apart by `gapMs`), returns what came back and whether the server closed. */
function exchange(port: number, parts: Buffer[], gapMs = 100): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now()
    const s = net.connect(port, '127.0.0.1', async () => {
      for (const [i, p] of parts.entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, gapMs))
        if (!s.destroyed) s.write(p)
      }
    })
    let text = ''
    s.on('data', (d) => (text += d))
    s.on('error', () => {})
    s.on('close', () => resolve({ text, closedAfterMs: Date.now() - t0 }))
    s.setTimeout(10_000, () => s.destroy())
  })
}

const request = (path = '/') => Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)
const body = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))

const CLASSES: [string, string[], string][] = [
  ['sync', [], 'apps/peer.mjs'],
  ['async', [], 'apps/peer.mjs'],
  ['gthread', ['--threads', '2'], 'apps/peer.mjs'],
  ['native', [], 'apps/native-peer.mjs'],
]

for (const [cls, extra, app] of CLASSES) {
  describe(`PROXY protocol: ${cls}`, () => {
    let p: Paddock
    let accessLog: string
    beforeAll(async () => {
      accessLog = join(mkdtempSync(join(tmpdir(), 'paddock-proxy-')), 'access.log')
      p = await startPaddock(['-w', '1', '-k', cls, ...extra, '--proxy-protocol', '--header-timeout', '1', '--access-logfile', accessLog, join(FIXTURES, app)])
      await waitForWorkers(p, 1)
    })
    afterAll(stopAll)

    it('gives the app, and the access log, the client named in a v1 or v2 header', async () => {
      const one = await exchange(p.port, [Buffer.concat([v1(), request('/v1')])])
      expect(body(one.text)).toMatchObject({ address: '203.0.113.7', port: 5555 })
      // header and request in separate packets too
      const two = await exchange(p.port, [v2(4), request('/v2')])
      expect(body(two.text)).toMatchObject({ address: '198.51.100.9', port: 8080 })
      const six = await exchange(p.port, [Buffer.concat([v2(6), request('/v2-6')])])
      expect(body(six.text)).toMatchObject({ address: '2001:db8::42', port: 8081 })
      // LOCAL (a balancer's health check): the peer itself
      expect(body((await exchange(p.port, [Buffer.concat([v2(4, 'LOCAL'), request()])])).text).address).toBe('127.0.0.1')
      await new Promise((r) => setTimeout(r, 200))
      const lines = readFileSync(accessLog, 'utf8')
      expect(lines).toMatch(/^203\.0\.113\.7 .*"GET \/v1 HTTP\/1\.1" 200/m)
      expect(lines).toMatch(/^198\.51\.100\.9 .*"GET \/v2 HTTP\/1\.1" 200/m)
    })

    it('closes, answering nothing, a connection whose header is malformed, truncated or missing', async () => {
      const malformed = await exchange(p.port, [Buffer.concat([Buffer.from('PROXY TCP4 1.2.3.999 10.0.0.1 1 2\r\n'), request()])])
      expect(malformed.text).toBe('')
      // the connection ends inside the header
      const truncated = await new Promise<string>((resolve) => {
        const s = net.connect(p.port, '127.0.0.1', () => s.end(v2(6).subarray(0, 30)))
        let t = ''
        s.on('data', (d) => (t += d))
        s.on('close', () => resolve(t))
        s.on('error', () => resolve(t))
      })
      expect(truncated).toBe('')
      // a plain request from an allowed peer, with no header
      expect((await exchange(p.port, [request()])).text).toBe('')
      // nothing at all: closed by the header timeout (1 s), with wide bounds
      const silent = await exchange(p.port, [])
      expect(silent.text).toBe('')
      expect(silent.closedAfterMs).toBeLessThan(6000)
    })
  })
}

describe('PROXY protocol: proxy_allow_from', () => {
  afterAll(stopAll)

  it('closes a connection whose header comes from a peer not allowed, and serves its plain requests', async () => {
    const p = await startPaddock(['-w', '1', '-k', 'gthread', '--threads', '2', '--proxy-protocol', 'v1', '--proxy-allow-from', '10.9.9.0/24', join(FIXTURES, 'apps/peer.mjs')])
    await waitForWorkers(p, 1)
    expect((await exchange(p.port, [Buffer.concat([v1(), request()])])).text).toBe('')
    expect((await exchange(p.port, [Buffer.concat([v2(4), request()])])).text).toBe('')
    expect(body((await exchange(p.port, [request()])).text).address).toBe('127.0.0.1')
  })
})
