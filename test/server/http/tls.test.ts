/**
 * TLS in every class (issue 14), with a CA made for the test: HTTPS with ALPN http/1.1 and
 * `req.socket.encrypted` (Node and curl clients), plain HTTP to the TLS port gets no answer
 * from the app, a handshake that never finishes is closed by the header timeout (and keeps a
 * sync worker busy meanwhile), PROXY then TLS, mutual TLS, bad certificates at start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import net from 'node:net'
import tls from 'node:tls'
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FIXTURES, runCli, startPaddock, stopAll, waitForWorkers, controlSocketPath, type Paddock } from '../../helpers/proc.js'
import { httpsGet, makeTestCa, type Issued, type TestCa } from './test-ca.js'

let ca: TestCa
let server: Issued
let client: Issued
beforeAll(() => {
  ca = makeTestCa()
  server = ca.issue('server', 'paddock-server', 'server')
  client = ca.issue('client', 'client-1', 'client')
})

/** Opens a TCP connection, writes `bytes`, and reports what came back and when it closed. */
function stall(port: number, bytes: Buffer | string): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now()
    const s = net.connect(port, '127.0.0.1', () => bytes.length && s.write(bytes))
    let text = ''
    s.on('data', (d) => (text += d))
    s.on('error', () => {})
    s.on('close', () => resolve({ text, closedAfterMs: Date.now() - t0 }))
    s.setTimeout(15_000, () => s.destroy())
  })
}

const CLASSES: [string, string[], string][] = [
  ['sync', [], 'apps/peer.mjs'],
  ['async', [], 'apps/peer.mjs'],
  ['gthread', ['--threads', '2'], 'apps/peer.mjs'],
  // a plain http.Server exported by the app: paddock wraps its connections in TLS
  ['native', [], 'apps/native-peer.mjs'],
]

for (const [cls, extra, app] of CLASSES) {
  describe(`TLS: ${cls}`, () => {
    let p: Paddock
    let accessLog: string
    beforeAll(async () => {
      accessLog = join(mkdtempSync(join(tmpdir(), 'paddock-tls-')), 'access.log')
      p = await startPaddock(['-w', '1', '-k', cls, ...extra, '--certfile', server.cert, '--keyfile', server.key, '--header-timeout', '1', '--access-logfile', accessLog, '--access-logformat', '%({wsgi.url_scheme}e)s %(h)s "%(r)s" %(s)s', join(FIXTURES, app)])
      await waitForWorkers(p, 1)
    })
    afterAll(stopAll)

    it('serves HTTPS: says https:// when listening, ALPN http/1.1, req.socket.encrypted, https in the access log', async () => {
      expect(p.output()).toMatch(/Listening at: https:\/\/127\.0\.0\.1:\d+/)
      const r = await httpsGet(p.port, '/', { ca: ca.ca })
      expect(r.status).toBe(200)
      expect(r.cn).toBe('paddock-server')
      expect(JSON.parse(r.body)).toMatchObject({ encrypted: true, alpn: 'http/1.1', address: '127.0.0.1' })
      const curl = await new Promise<string>((resolve) => execFile('curl', ['-s', '--cacert', ca.caFile, `https://127.0.0.1:${p.port}/curl`], (_e, out) => resolve(out)))
      expect(JSON.parse(curl)).toMatchObject({ encrypted: true })
      await new Promise((r) => setTimeout(r, 200))
      expect(readFileSync(accessLog, 'utf8')).toMatch(/^https 127\.0\.0\.1 "GET \/curl HTTP\/1\.1" 200$/m)
    })

    it('gives plain HTTP sent to the TLS port no answer from the app', async () => {
      const r = await stall(p.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
      expect(r.text).not.toContain('HTTP/1.1 200')
      expect(r.text).not.toContain('"encrypted"')
    })

    it('closes a handshake that never finishes within the header timeout', async () => {
      // half a ClientHello record header, then nothing
      const partial = await stall(p.port, Buffer.from([0x16, 0x03, 0x01]))
      const silent = await stall(p.port, '')
      // 1 s timeout; wide bounds for a loaded machine
      expect(partial.closedAfterMs).toBeLessThan(8000)
      expect(silent.closedAfterMs).toBeLessThan(8000)
      expect((await httpsGet(p.port, '/', { ca: ca.ca })).status).toBe(200)
    })
  })
}

describe('TLS: accept semantics and PROXY in front', () => {
  afterAll(stopAll)

  it('sync: a connection in its handshake keeps the worker busy; the next waits in the backlog', async () => {
    const p = await startPaddock(['-w', '1', '-k', 'sync', '--certfile', server.cert, '--keyfile', server.key, '--header-timeout', '2', join(FIXTURES, 'apps/peer.mjs')])
    await waitForWorkers(p, 1)
    const stalled = stall(p.port, '')
    await new Promise((r) => setTimeout(r, 300))
    const t0 = Date.now()
    const r = await httpsGet(p.port, '/', { ca: ca.ca })
    expect(r.status).toBe(200)
    // served only once the stalled handshake was closed (2 s after it began)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1200)
    expect((await stalled).text).toBe('')
  })

  for (const cls of ['sync', 'gthread']) {
    it(`${cls}: PROXY then TLS (HAProxy send-proxy with ssl): the app sees the client and encryption`, async () => {
      const p = await startPaddock(['-w', '1', '-k', cls, '--proxy-protocol', '--certfile', server.cert, '--keyfile', server.key, join(FIXTURES, 'apps/peer.mjs')])
      await waitForWorkers(p, 1)
      const seen = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const raw = net.connect(p.port, '127.0.0.1', () => {
          raw.write('PROXY TCP4 203.0.113.7 10.0.0.1 5555 443\r\n')
          const s = tls.connect({ socket: raw, ca: ca.ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] }, () => s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))
          let text = ''
          s.on('data', (d) => (text += d))
          s.on('end', () => resolve(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))))
          s.on('error', reject)
        })
      })
      expect(seen).toMatchObject({ address: '203.0.113.7', port: 5555, encrypted: true, alpn: 'http/1.1' })
    })
  }
})

describe('TLS options', () => {
  afterAll(stopAll)

  it('--tls-min-version and the ssl_context hook in the config file set what the handshake accepts', async () => {
    const tls12 = (port: number) =>
      new Promise<string>((resolve) => {
        const s = tls.connect({ port, host: '127.0.0.1', ca: ca.ca, servername: 'localhost', maxVersion: 'TLSv1.2' }, () => {
          resolve(String(s.getProtocol()))
          s.destroy()
        })
        s.on('error', (e) => resolve(`refused: ${(e as NodeJS.ErrnoException).code ?? e.message}`))
      })
    const flag = await startPaddock(['-w', '1', '-k', 'async', '--certfile', server.cert, '--keyfile', server.key, '--tls-min-version', 'TLSv1.3', join(FIXTURES, 'apps/peer.mjs')])
    await waitForWorkers(flag, 1)
    expect(await tls12(flag.port)).toMatch(/^refused/)
    const config = join(mkdtempSync(join(tmpdir(), 'paddock-sslctx-')), 'paddock.config.mjs')
    writeFileSync(config, `export function ssl_context(settings, options) { return { ...options, minVersion: 'TLSv1.3' } }\n`)
    const hook = await startPaddock(['-c', config, '-w', '1', '-k', 'gthread', '--certfile', server.cert, '--keyfile', server.key, join(FIXTURES, 'apps/peer.mjs')])
    await waitForWorkers(hook, 1)
    expect(await tls12(hook.port)).toMatch(/^refused/)
    expect((await httpsGet(hook.port, '/', { ca: ca.ca })).status).toBe(200)
    // without either, TLS 1.2 is accepted (the default minimum)
    const plain = await startPaddock(['-w', '1', '-k', 'async', '--certfile', server.cert, '--keyfile', server.key, join(FIXTURES, 'apps/peer.mjs')])
    await waitForWorkers(plain, 1)
    expect(await tls12(plain.port)).toBe('TLSv1.2')
  })
})

describe('mutual TLS', () => {
  afterAll(stopAll)

  for (const cls of ['async', 'gthread']) {
    it(`${cls}: --cert-reqs 2 serves a client with a CA-signed certificate and refuses one without`, async () => {
      const p = await startPaddock(['-w', '1', '-k', cls, '--certfile', server.cert, '--keyfile', server.key, '--ca-certs', ca.caFile, '--cert-reqs', '2', join(FIXTURES, 'apps/peer.mjs')])
      await waitForWorkers(p, 1)
      const ok = await httpsGet(p.port, '/', { ca: ca.ca, cert: readFileSync(client.cert), key: readFileSync(client.key) })
      expect(JSON.parse(ok.body)).toMatchObject({ authorized: true, clientCN: 'client-1' })
      await expect(httpsGet(p.port, '/', { ca: ca.ca })).rejects.toThrow()
    })
  }

  it('--cert-reqs 1 asks for a certificate but serves a client without one (authorized false)', async () => {
    const sock = controlSocketPath()
    const p = await startPaddock(['-b', '127.0.0.1:0', '--control-socket', sock, '-w', '1', '-k', 'gthread', '--certfile', server.cert, '--keyfile', server.key, '--ca-certs', ca.caFile, '--cert-reqs', '1', join(FIXTURES, 'apps/peer.mjs')], { bind: false })
    await waitForWorkers(p, 1)
    expect(JSON.parse((await httpsGet(p.port, '/', { ca: ca.ca })).body)).toMatchObject({ authorized: false, clientCN: null })
    const withCert = await httpsGet(p.port, '/', { ca: ca.ca, cert: readFileSync(client.cert), key: readFileSync(client.key) })
    expect(JSON.parse(withCert.body)).toMatchObject({ authorized: true, clientCN: 'client-1' })
    // ctl status names the listener with https://
    const status = await runCli(['ctl', '--socket', sock, 'status'])
    expect(status.stdout).toMatch(/https:\/\/127\.0\.0\.1:\d+/)
  })
})

describe('bad certificates at start', () => {
  afterAll(stopAll)

  it('exits 2 with one line naming the file and the reason', async () => {
    const other = ca.issue('other', 'other', 'server')
    const garbage = join(ca.dir, 'garbage.pem')
    writeFileSync(garbage, 'not a certificate\n')
    const cases: [string[], RegExp][] = [
      [['--certfile', join(ca.dir, 'missing.pem'), '--keyfile', server.key], /--certfile .*missing\.pem: cannot read it: no such file/],
      [['--certfile', server.cert, '--keyfile', other.key], /--keyfile .*other\.key does not match --certfile .*server\.pem/],
      [['--certfile', garbage, '--keyfile', server.key], /--certfile .*garbage\.pem: not a usable certificate/],
    ]
    for (const [args, line] of cases) {
      const r = await runCli(['-b', '127.0.0.1:0', '--no-control-socket', ...args, join(FIXTURES, 'apps/peer.mjs')])
      expect(r.code, r.stderr).toBe(2)
      const lines = r.stderr.trim().split('\n')
      expect(lines, r.stderr).toHaveLength(1)
      expect(lines[0]).toMatch(line)
    }
  })
})
