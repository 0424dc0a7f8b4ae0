/**
 * RFC 9112 conformance at the edge, in every class (issue 14): Host required once, no
 * Transfer-Encoding in HTTP/1.0, an answer to CONNECT, an absolute-form target that is no
 * URL is a 400 (not an app error), and after a complete request or an answer already sent,
 * bad bytes close the connection without a second answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import net from 'node:net'
import { join } from 'node:path'
import { DEMO, FIXTURES, get, startPaddock, stopAll, waitForWorkers, type Paddock } from '../../helpers/proc.js'

/** Sends `parts` (the later ones after `gapMs`), returns every byte until the server closes. */
function exchange(port: number, parts: string[], gapMs = 300): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', async () => {
      for (const [i, p] of parts.entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, gapMs))
        if (!s.destroyed) s.write(p)
      }
    })
    let text = ''
    let closed = false
    s.on('data', (d) => (text += d))
    s.on('error', () => {})
    s.on('close', () => {
      closed = true
      resolve({ text, closed })
    })
    s.setTimeout(5000, () => {
      s.destroy()
      resolve({ text, closed: false })
    })
  })
}

const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]))

const CLASSES: [string, string[], string][] = [
  ['sync', [], DEMO],
  ['async', [], DEMO],
  ['gthread', ['--threads', '2'], DEMO],
  ['native', [], join(FIXTURES, 'apps/native-demo.mjs')],
]

for (const [cls, extra, app] of CLASSES) {
  describe(`conformance: ${cls}`, () => {
    let p: Paddock
    beforeAll(async () => {
      p = await startPaddock(['-w', '1', '-k', cls, ...extra, app])
      await waitForWorkers(p, 1)
    })
    afterAll(stopAll)

    it('answers 400 to an HTTP/1.1 request without a Host header, or with two, and closes', async () => {
      for (const head of ['GET / HTTP/1.1\r\n\r\n', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n']) {
        const r = await exchange(p.port, [head])
        expect(statuses(r.text), head).toEqual([400])
        expect(r.closed).toBe(true)
      }
      // HTTP/1.0 may leave Host out
      expect(statuses((await exchange(p.port, ['GET / HTTP/1.0\r\n\r\n'])).text)).toEqual([200])
    })

    it('answers 400 to an HTTP/1.0 request with Transfer-Encoding (faulty framing) and closes', async () => {
      const r = await exchange(p.port, ['POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'])
      expect(statuses(r.text)).toEqual([400])
      expect(r.closed).toBe(true)
    })

    it('answers CONNECT in authority form with 501 instead of a silent close', async () => {
      const r = await exchange(p.port, ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'])
      expect(statuses(r.text)).toEqual([501])
    })

    it('answers 400 to an absolute-form target that is not a valid URL, and logs no app error', async () => {
      const r = await exchange(p.port, ['PUT s://]ufd/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n'])
      expect(statuses(r.text)).toEqual([400])
      // a valid absolute form is served
      expect(statuses((await exchange(p.port, ['GET http://x/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'])).text)).toEqual([200])
      expect(p.output()).not.toContain('Invalid URL')
    })

    it("answers a complete request with its own answer when bad bytes follow it, then closes", async () => {
      // the app is still working on the first request (200 ms) when the bad bytes arrive
      const r = await exchange(p.port, ['GET /io?ms=200 HTTP/1.0\r\n\r\nNOT HTTP AT ALL\r\n\r\n'])
      expect(statuses(r.text)).toEqual([200])
      expect(r.text).toContain('io 200ms')
      expect(r.closed).toBe(true)
      const pipelined = await exchange(p.port, ['GET /io?ms=200 HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nx\r\n0\r\n\r\n'])
      // the first answer first; the second request's body is bad, so its answer is a 400 (or nothing)
      expect(statuses(pipelined.text)[0]).toBe(200)
      expect(statuses(pipelined.text).slice(1).every((s) => s === 400)).toBe(true)
      expect(pipelined.closed).toBe(true)
    })

    it('never sends a second answer when the body turns out malformed after the app answered', async () => {
      // /nope: the app answers 404 without reading the body; the rest of the body is bad
      const r = await exchange(p.port, ['POST /nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', 'zz\r\n0\r\n\r\n'])
      expect(statuses(r.text)).toEqual([404])
      expect(r.closed).toBe(true)
      // and the worker serves on
      expect((await get(p.port, '/')).status).toBe(200)
    })
  })
}
