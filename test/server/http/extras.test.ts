/**
 * What an app sends beyond status, headers and body reaches the client the same way in
 * every class (native included, where the app's own server writes them): its own
 * `Connection: close` (the connection closes after that response),
 * 103 Early Hints before the answer, and trailers after a chunked body. gthread rebuilds
 * each response on the main thread, so these are the parts it could lose.
 */
import { afterAll, describe, expect, it } from 'vitest'
import net from 'node:net'
import { join } from 'node:path'
import { FIXTURES, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'

const APP = join(FIXTURES, 'apps/http-extras.mjs')
/** native serves the same app on a server of its own */
const appFor = (cls: string) => (cls === 'native' ? join(FIXTURES, 'apps/native-extras.mjs') : APP)

/** Send `text`, collect everything until the server closes (or `ms` pass), and whether it closed. */
function exchange(port: number, text: string, ms = 3000): Promise<{ got: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text))
    let got = ''
    const t = setTimeout(() => {
      s.destroy()
      resolve({ got, closedByServer: false })
    }, ms)
    s.on('data', (d) => (got += d))
    s.on('end', () => {
      clearTimeout(t)
      s.destroy()
      resolve({ got, closedByServer: true })
    })
    s.on('error', () => {
      clearTimeout(t)
      resolve({ got, closedByServer: true })
    })
  })
}

describe('HTTP extras in every class', () => {
  afterAll(stopAll)

  for (const cls of ['sync', 'gthread', 'async', 'native']) {
    it(`${cls}: the app's Connection: close, 103 Early Hints and trailers reach the client`, async () => {
      const p = await startPaddock(['-w', '1', '-k', cls, ...(cls === 'gthread' ? ['--threads', '2'] : []), appFor(cls)])
      await waitForWorkers(p, 1)

      // Connection: close from the app ends the connection after its response, even when
      // the client asked for keep-alive and sent a second request behind it
      const close = await exchange(p.port, 'GET /close HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n')
      expect(close.got).toMatch(/^HTTP\/1\.1 200/)
      expect(close.got.toLowerCase()).toContain('connection: close')
      expect(close.got).toMatch(/\r\n\r\nok$/)
      expect(close.closedByServer).toBe(true)

      // 103 first, with its Link, then the real answer
      const hints = await exchange(p.port, 'GET /hints HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
      expect(hints.got).toMatch(/^HTTP\/1\.1 103 Early Hints\r\n/)
      expect(hints.got.toLowerCase()).toContain('link: </style.css>; rel=preload; as=style')
      const second = hints.got.indexOf('HTTP/1.1 200')
      expect(second).toBeGreaterThan(0)
      expect(hints.got.slice(second)).toContain('after hints')

      // trailers after the last chunk
      const tr = await exchange(p.port, 'GET /trailers HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTE: trailers\r\n\r\n')
      expect(tr.got).toMatch(/^HTTP\/1\.1 200/)
      expect(tr.got.toLowerCase()).toContain('transfer-encoding: chunked')
      expect(tr.got).toMatch(/\r\n3\r\nabc\r\n0\r\nX-Checksum: c0ffee\r\n\r\n$/)
    })

    it(`${cls}: a request pipelined behind a Connection: close answer does not stay in flight`, async () => {
      const p = await startPaddock(['-w', '1', '-k', cls, ...(cls === 'gthread' ? ['--threads', '2'] : []), '--graceful-timeout', '30', appFor(cls)])
      await waitForWorkers(p, 1)
      // the second request is parsed and handed to the app, but its connection closes
      // before it can be answered: it must count as done, or the drain below would wait
      // for it until the graceful timeout
      const close = await exchange(p.port, 'GET /close HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n')
      expect(close.closedByServer).toBe(true)
      const t0 = Date.now()
      process.kill(p.pid, 'SIGTERM')
      const how = await Promise.race([p.exited, new Promise<null>((r) => setTimeout(() => r(null), 10_000))])
      expect(how, `still draining after 10 s:\n${p.output()}`).not.toBeNull()
      expect(how!.code).toBe(0)
      expect(Date.now() - t0).toBeLessThan(10_000)
    })
  }
})
