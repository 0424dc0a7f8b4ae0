/**
 * Certificate rotation without a restart (issue 14): HUP re-reads the certificate and key
 * through the ordinary rolling reload, under a steady load with no failed request; a bad new
 * certificate leaves the old one serving and is logged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FIXTURES, sleep, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'
import { httpsGet, makeTestCa, type TestCa } from './test-ca.js'

let ca: TestCa
beforeAll(() => {
  ca = makeTestCa()
})
afterAll(stopAll)

describe('TLS certificate rotation on HUP', () => {
  it('serves the new certificate to new connections with 0 failed requests, and keeps the old one when the new is bad', async () => {
    const first = ca.issue('first', 'first', 'server')
    const second = ca.issue('second', 'second', 'server')
    const live = mkdtempSync(join(tmpdir(), 'paddock-live-'))
    const cert = join(live, 'cert.pem')
    const key = join(live, 'key.pem')
    copyFileSync(first.cert, cert)
    copyFileSync(first.key, key)
    const p = await startPaddock(['-w', '2', '-k', 'async', '--certfile', cert, '--keyfile', key, join(FIXTURES, 'apps/peer.mjs')])
    await waitForWorkers(p, 2)
    expect((await httpsGet(p.port, '/', { ca: ca.ca })).cn).toBe('first')

    let running = true
    const result = { ok: 0, failed: 0, errors: [] as string[] }
    const loops = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          const r = await httpsGet(p.port, '/slow?ms=30', { ca: ca.ca })
          if (r.status === 200) result.ok++
          else result.failed++
        } catch (err) {
          result.failed++
          result.errors.push((err as Error).message)
        }
      }
    })
    await sleep(500)
    copyFileSync(second.cert, cert)
    copyFileSync(second.key, key)
    process.kill(p.pid, 'SIGHUP')
    let cn: string | undefined
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(200)) {
      cn = (await httpsGet(p.port, '/', { ca: ca.ca })).cn
      if (cn === 'second') break
    }
    expect(cn, p.output()).toBe('second')

    // a broken certificate on the next HUP: logged, and the running generation keeps its own
    writeFileSync(cert, 'not a certificate\n')
    process.kill(p.pid, 'SIGHUP')
    await p.waitFor(/reload aborted.*--certfile .*cert\.pem: not a usable certificate/)
    await sleep(500)
    running = false
    await Promise.all(loops)
    expect(result.errors).toEqual([])
    expect(result.failed).toBe(0)
    expect(result.ok).toBeGreaterThan(20)
    expect((await httpsGet(p.port, '/', { ca: ca.ca })).cn).toBe('second')
  })
})
