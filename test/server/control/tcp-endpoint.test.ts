/**
 * The TCP control endpoint (--control-bind) of real servers on 127.0.0.2 / 127.0.0.3:
 * token checks, refusal logging and limiting, TLS with a test CA, mutual TLS, and the
 * settings refused at start.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import tls from 'node:tls'
import { afterEach, describe, expect, it } from 'vitest'
import { DEMO, runCli, stopAll } from '../../helpers/proc.js'
import { startFleetServer, tokenFile } from '../../helpers/fleet.js'
import { makeTestCa } from '../../helpers/tls.js'
import { encodeFrame, FrameDecoder } from '../../../src/server/control/framing.js'
import { ControlServer } from '../../../src/server/control/control-server.js'
import { startTcpEndpoint } from '../../../src/server/control/tcp-endpoint.js'
import { fakeArbiter } from './fake-arbiter.js'

afterEach(stopAll)

/** hello over a TLS socket by hand; resolves with the first frame the server answers */
function tlsHello(port: number, host: string, opts: tls.ConnectionOptions, token: string): Promise<{ type: string; error?: { code: string } }> {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host, port, ...opts }, () => sock.write(encodeFrame({ type: 'hello', protocol: 1, client: 'test', token })))
    const dec = new FrameDecoder()
    sock.on('data', (c) => {
      const [f] = dec.push(c) as { type: string }[]
      if (f) {
        sock.destroy()
        resolve(f)
      }
    })
    sock.on('error', reject)
    sock.on('close', () => reject(new Error('closed without an answer')))
  })
}

describe('TCP control endpoint', () => {
  it('serves ctl with the right token, refuses a wrong one with one logged line, and never logs the token', async () => {
    const a = await startFleetServer('127.0.0.2', DEMO, { workers: 1 })
    const ok = await runCli(['ctl', '--remote', a.control, '--token-file', a.tokenFile, 'workers', '--json'])
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    expect(JSON.parse(ok.stdout)).toHaveLength(1)

    const wrong = tokenFile()
    const bad = await runCli(['ctl', '--remote', a.control, '--token-file', wrong.file, 'status'])
    expect(bad.code).toBe(1)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    expect(bad.stderr).toMatch(/missing or wrong control token/)
    await a.paddock.waitFor(/control endpoint: refused 127\.0\.0\.1: wrong token/)
    expect(a.paddock.output()).not.toContain(wrong.token)
    expect(a.paddock.output()).not.toContain(a.token)
  })

  it('drops an address that was refused five times, without reading its token', async () => {
    const a = await startFleetServer('127.0.0.3', DEMO, { workers: 1 })
    const wrong = tokenFile()
    for (let i = 0; i < 5; i++) {
      const r = await runCli(['ctl', '--remote', a.control, '--token-file', wrong.file, 'status'])
      expect(r.stderr).toMatch(/wrong control token/)
    }
    await a.paddock.waitFor(/127\.0\.0\.1 was refused 5 times: its connections are dropped unread for \d+ s/)
    // now even the right token is not read: the connection closes before any answer
    const r = await runCli(['ctl', '--remote', a.control, '--token-file', a.tokenFile, 'status'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/closed the connection/)
    // five lines for five attempts plus one for the block; the sixth attempt is not logged
    expect(a.paddock.output().match(/control endpoint: refused/g)).toHaveLength(5)
  })

  it('speaks TLS with a certificate from a test CA, and requires client certificates with --control-ca-certs', async () => {
    const ca = makeTestCa(['127.0.0.2', '127.0.0.3'])
    const a = await startFleetServer('127.0.0.2', DEMO, { workers: 1, extra: ['--control-certfile', ca.serverCert, '--control-keyfile', ca.serverKey] })
    expect(a.control).toMatch(/^tls:\/\/127\.0\.0\.2:\d+$/)
    const ok = await runCli(['ctl', '--remote', a.control, '--token-file', a.tokenFile, '--ca-certs', ca.ca, 'status'])
    expect(ok.stderr).toBe('')
    expect(ok.stdout).toMatch(/workers 1\/1/)
    // without the CA the client does not trust the server, and says how to fix it
    const untrusted = await runCli(['ctl', '--remote', a.control, '--token-file', a.tokenFile, 'status'])
    expect(untrusted.code).toBe(1)
    expect(untrusted.stderr).toMatch(/not trusted .*--ca-certs/)

    const b = await startFleetServer('127.0.0.3', DEMO, {
      workers: 1,
      extra: ['--control-certfile', ca.serverCert, '--control-keyfile', ca.serverKey, '--control-ca-certs', ca.ca],
    })
    const port = Number(b.control.split(':').pop())
    const withCert = await tlsHello(port, '127.0.0.3', { ca: readFileSync(ca.ca), cert: readFileSync(ca.clientCert), key: readFileSync(ca.clientKey) }, b.token)
    expect(withCert.type).toBe('welcome')
    const noCert = await runCli(['ctl', '--remote', b.control, '--token-file', b.tokenFile, '--ca-certs', ca.ca, 'status'])
    expect(noCert.code).toBe(1)
    expect(noCert.stderr).toMatch(/requires a client certificate .*--certfile FILE and --keyfile FILE/)
    await b.paddock.waitFor(/control endpoint: refused 127\.0\.0\.1: TLS handshake failed/)
    // ctl presents one with --certfile/--keyfile (turning TLS on, as --ca-certs does)
    const withCtlCert = await runCli(['ctl', '--remote', b.control.replace(/^tls:\/\//, ''), '--token-file', b.tokenFile, '--ca-certs', ca.ca, '--certfile', ca.clientCert, '--keyfile', ca.clientKey, 'status'])
    expect(withCtlCert.stderr).toBe('')
    expect(withCtlCert.stdout).toMatch(/workers 1\/1/)
    // a certificate from another CA is refused (TLS 1.3 closes without an alert the client reads)
    const other = makeTestCa(['127.0.0.3'])
    const before = b.paddock.output().match(/TLS handshake failed/g)!.length
    const foreign = await runCli(['ctl', '--remote', b.control, '--token-file', b.tokenFile, '--ca-certs', ca.ca, '--certfile', other.clientCert, '--keyfile', other.clientKey, 'status'])
    expect(foreign.code).toBe(1)
    await b.paddock.waitFor(new RegExp(`(?:[^]*TLS handshake failed){${before + 1}}`))
    // a key that is not the certificate's: said before connecting
    const mismatched = await runCli(['ctl', '--remote', b.control, '--token-file', b.tokenFile, '--ca-certs', ca.ca, '--certfile', ca.clientCert, '--keyfile', other.clientKey, 'status'])
    expect(mismatched.code).toBe(1)
    expect(mismatched.stderr).toMatch(/do not go together/)
  })

  it('does not count failed TLS handshakes toward the token block, and keeps their log short', async () => {
    const ca = makeTestCa(['127.0.0.2'])
    const tok = tokenFile()
    const warnings: string[] = []
    const control = new ControlServer(fakeArbiter(), { rateHz: 10 })
    const ep = await startTcpEndpoint(control, {
      bind: '127.0.0.2:0', tokenFile: tok.file, certFile: ca.serverCert, keyFile: ca.serverKey, caFile: ca.ca,
      log: { warning: (m) => warnings.push(m), info: () => {} }, refusals: { maxRefused: 3, windowMs: 60_000 },
    })
    try {
      const trust = { ca: readFileSync(ca.ca) }
      const withCert = { ...trust, cert: readFileSync(ca.clientCert), key: readFileSync(ca.clientKey) }
      // a client without a certificate, six times: twice the token limit
      for (let i = 0; i < 6; i++) await expect(tlsHello(ep.port, '127.0.0.2', trust, tok.token)).rejects.toThrow()
      // the same address with a certificate and the right token is still served
      expect((await tlsHello(ep.port, '127.0.0.2', withCert, tok.token)).type).toBe('welcome')
      const lines = warnings.filter((w) => /TLS handshake/.test(w))
      expect(lines.filter((w) => /refused 127\.0\.0\.1: TLS handshake failed/.test(w))).toHaveLength(3)
      expect(lines.at(-1)).toMatch(/127\.0\.0\.1 failed 3 TLS handshakes: further ones are not logged for \d+ s/)
      expect(warnings.some((w) => /dropped unread/.test(w))).toBe(false)
      // wrong tokens still block: three, then even the right one is dropped unread
      for (let i = 0; i < 3; i++) expect((await tlsHello(ep.port, '127.0.0.2', withCert, 'wrong-token-0123456789')).error?.code).toBe('PADDOCK_ERR_AUTH')
      await expect(tlsHello(ep.port, '127.0.0.2', withCert, tok.token)).rejects.toThrow()
      expect(warnings.some((w) => /127\.0\.0\.1 was refused 3 times: its connections are dropped unread/.test(w))).toBe(true)
    } finally {
      await ep.close()
      control.close()
    }
  })

  it('refuses at start, with one line and exit 2: a plain non-loopback bind, no token file, the app port', async () => {
    const tok = tokenFile()
    const plain = await runCli(['-b', '127.0.0.1:0', '--no-control-socket', '--control-bind', '0.0.0.0:0', '--control-token-file', tok.file, DEMO])
    expect(plain.code).toBe(2)
    expect(plain.stderr.trim().split('\n')).toHaveLength(1)
    expect(plain.stderr).toMatch(/^paddock: --control-bind 0\.0\.0\.0:0 is reachable from other machines but has no TLS/)

    const noToken = await runCli(['-b', '127.0.0.1:0', '--no-control-socket', '--control-bind', '127.0.0.2:0', DEMO])
    expect(noToken.code).toBe(2)
    expect(noToken.stderr).toMatch(/needs --control-token-file/)

    const samePort = await runCli(['-b', '127.0.0.2:18531', '--no-control-socket', '--control-bind', '127.0.0.2:18531', '--control-token-file', tok.file, DEMO])
    expect(samePort.code).toBe(2)
    expect(samePort.stderr).toMatch(/never serves on the application's port/)

    writeFileSync(tok.file, 'short\n')
    const weak = await runCli(['-b', '127.0.0.2:0', '--no-control-socket', '--control-bind', '127.0.0.2:0', '--control-token-file', tok.file, DEMO])
    expect(weak.code).toBe(2)
    expect(weak.stderr).toMatch(/at least 16/)
  })
})
