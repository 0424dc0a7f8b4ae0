/**
 * The HTTP edge with Gunicorn's settings: request limits answer 400 / 431 / 413 and close,
 * before the app runs; forwarded scheme headers are honoured only from trusted front ends;
 * the Server header can be turned off. Every class shares this edge; async is used here,
 * the malformed-request corpus covers the classes one by one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import net from 'node:net'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEMO, FIXTURES, get, startPaddock, stopAll, waitForWorkers, type Paddock } from '../../helpers/proc.js'

function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text))
    let got = ''
    s.on('data', (d) => (got += d))
    s.on('close', () => resolve(got))
    s.on('error', () => resolve(got))
    s.setTimeout(5000, () => s.destroy())
  })
}

describe('HTTP limits', () => {
  let p: Paddock
  beforeAll(async () => {
    p = await startPaddock(['-w', '1', '-k', 'async', '--limit-request-line', '100', '--limit-request-fields', '6', '--limit-request-field-size', '80', '--limit-request-body', '1000', DEMO])
    await waitForWorkers(p, 1)
  })
  afterAll(stopAll)

  it('an over-long request line gets 400', async () => {
    const r = await raw(p.port, `GET /echo?${'a'.repeat(150)} HTTP/1.1\r\nHost: x\r\n\r\n`)
    expect(r).toMatch(/^HTTP\/1\.1 400/)
    expect(r.toLowerCase()).toContain('connection: close')
  })

  it('too many header fields get 431', async () => {
    const headers = Array.from({ length: 8 }, (_, i) => `X-H${i}: v\r\n`).join('')
    expect(await raw(p.port, `GET / HTTP/1.1\r\nHost: x\r\n${headers}\r\n`)).toMatch(/^HTTP\/1\.1 431/)
  })

  it('a header field above the size limit gets 431', async () => {
    expect(await raw(p.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(120)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431/)
  })

  it('a body above the limit gets 413, declared or streamed', async () => {
    const declared = await raw(p.port, `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n${'x'.repeat(5000)}`)
    expect(declared).toMatch(/^HTTP\/1\.1 413/)
    const chunk = 'x'.repeat(600)
    const chunked = await raw(p.port, `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`)
    expect(chunked).toMatch(/^HTTP\/1\.1 413/)
  })

  it('requests within the limits are served', async () => {
    const ok = await get(p.port, '/echo', { method: 'POST', body: 'y'.repeat(900) })
    expect(ok.status).toBe(200)
    expect(JSON.parse(ok.body).body).toHaveLength(900)
  })
})

describe('the body limit and apps that read late', () => {
  afterAll(stopAll)

  for (const cls of ['sync', 'gthread', 'async']) {
    it(`${cls}: a body within --limit-request-body reaches an app that reads it after an await`, async () => {
      const p = await startPaddock(['-w', '1', '-k', cls, '--limit-request-body', '100000', join(FIXTURES, 'apps/late-reader.mjs')])
      await waitForWorkers(p, 1)
      const r = await get(p.port, '/', { method: 'POST', body: 'z'.repeat(5000) })
      expect(r.status).toBe(200)
      expect(JSON.parse(r.body).bytes).toBe(5000)
      const chunk = 'x'.repeat(60_000)
      const over = await raw(p.port, `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nea60\r\n${chunk}\r\nea60\r\n${chunk}\r\n0\r\n\r\n`)
      expect(over).toMatch(/^HTTP\/1\.1 413/)
    })
  }
})

describe('forwarded_allow_ips and the Server header', () => {
  afterAll(stopAll)

  it('keeps X-Forwarded-Proto from a trusted peer and strips it from an untrusted one', async () => {
    const trusted = await startPaddock(['-w', '1', '-k', 'async', DEMO])
    await waitForWorkers(trusted, 1)
    const a = JSON.parse((await get(trusted.port, '/echo', { headers: { 'X-Forwarded-Proto': 'https' } })).body)
    expect(a.headers['x-forwarded-proto']).toBe('https')
    const untrusted = await startPaddock(['-w', '1', '-k', 'gthread', '--threads', '2', '--forwarded-allow-ips', '10.1.2.3', DEMO])
    await waitForWorkers(untrusted, 1)
    const b = JSON.parse((await get(untrusted.port, '/echo', { headers: { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Ssl': 'on' } })).body)
    expect(b.headers['x-forwarded-proto']).toBeUndefined()
    expect(b.headers['x-forwarded-ssl']).toBeUndefined()
  })

  it('takes the header names from secure_scheme_headers in the config file, in gthread threads too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-scheme-'))
    const config = join(dir, 'paddock.config.mjs')
    writeFileSync(config, `export default { secure_scheme_headers: { 'X-Scheme': 'https' }, forwarded_allow_ips: '10.1.2.3' }\n`)
    const p = await startPaddock(['-c', config, '-w', '1', '-k', 'gthread', '--threads', '2', DEMO])
    await waitForWorkers(p, 1)
    const seen = JSON.parse((await get(p.port, '/echo', { headers: { 'X-Scheme': 'https', 'X-Forwarded-Proto': 'https' } })).body)
    // the configured header is removed from an untrusted peer; one no longer configured passes
    expect(seen.headers['x-scheme']).toBeUndefined()
    expect(seen.headers['x-forwarded-proto']).toBe('https')
  })

  it('sends Server: paddock unless --no-server-header', async () => {
    const on = await startPaddock(['-w', '1', DEMO])
    await waitForWorkers(on, 1)
    expect((await get(on.port, '/')).headers.server).toBe('paddock')
    const off = await startPaddock(['-w', '1', '--no-server-header', DEMO])
    await waitForWorkers(off, 1)
    expect((await get(off.port, '/')).headers.server).toBeUndefined()
  })
})

describe('the Server header and the app', () => {
  afterAll(stopAll)

  it("is added however the app sends its headers, and the app's own Server header wins", async () => {
    const p = await startPaddock(['-w', '1', '-k', 'async', join(FIXTURES, 'apps/server-header.mjs')])
    await waitForWorkers(p, 1)
    for (const path of ['/obj-own', '/arr-own', '/nested-own', '/set-own']) {
      const r = await get(p.port, path)
      expect(r.headers.server, path).toBe('mine')
      // exactly one Server line on the wire
      expect(r.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'server'), path).toHaveLength(1)
    }
    for (const path of ['/obj', '/arr', '/reason', '/set', '/']) expect((await get(p.port, path)).headers.server, path).toBe('paddock')
    const reason = await get(p.port, '/reason')
    expect([reason.status, reason.statusMessage, reason.headers['x-a']]).toEqual([201, 'Made It', '1'])
    expect((await get(p.port, '/arr')).headers['x-a']).toBe('1, 2')
  })
})
