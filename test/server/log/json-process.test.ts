/**
 * --log-format json on a real server: every line of the error log and of the access log is
 * one JSON object, whatever bytes the client sent (a request line with control bytes, which
 * the parser refuses with 400, is still named in the access log, and still parses).
 */
import { afterEach, describe, expect, it } from 'vitest'
import net from 'node:net'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEMO, get, sleep, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'

afterEach(stopAll)

/** send raw bytes, return the status line of the answer */
function raw(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes))
    let got = ''
    s.on('data', (d) => (got += d.toString('latin1')))
    s.on('close', () => resolve(got.split('\r\n', 1)[0]!))
    s.on('error', reject)
  })
}

describe('--log-format json', () => {
  it('writes every error-log and access-log line as one JSON object, control bytes included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-json-'))
    const accessLog = join(dir, 'access.log')
    // the error log on stderr: then every line the master writes there must parse
    const p = await startPaddock(['-w', '1', '--log-format', 'json', '--access-logfile', accessLog, DEMO])
    const port = p.port
    await waitForWorkers(p, 1)
    expect((await get(port, '/', { headers: { 'User-Agent': 'tab\there "quoted" \\ é' } })).status).toBe(200)
    expect((await get(port, '/crash?why="so"')).status).toBe(500)
    const controlPath = Buffer.from('GET /a\x01b\x1b[31mred\x7f\x00z HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'latin1')
    expect(await raw(port, controlPath)).toMatch(/^HTTP\/1\.1 400/)
    const forgedLine = Buffer.from('GET /x\r\n{"forged":true} HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1')
    expect(await raw(port, forgedLine)).toMatch(/^HTTP\/1\.1 400/)
    await sleep(300)

    const parse = (text: string) => text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    const access = parse(readFileSync(accessLog, 'utf8'))
    const errors = parse(p.output())
    expect(access).toHaveLength(4)
    for (const line of [...access, ...errors]) {
      expect(typeof line.time).toBe('string')
      expect(typeof line.level).toBe('string')
      expect(typeof line.pid).toBe('number')
    }
    expect(access[0]).toMatchObject({ status: 200, request: 'GET / HTTP/1.1', user_agent: 'tab\there "quoted" \\ é' })
    expect(access[2]).toMatchObject({ status: 400, request: 'GET /a\x01b\x1b[31mred\x7f\x00z HTTP/1.1' })
    expect(access.some((l) => l.forged)).toBe(false)
    expect(errors.some((l) => /Booting worker/.test(String(l.message)))).toBe(true)
    // the app's stack trace is one line whose message holds the newlines
    const crash = errors.find((l) => /error handling GET \/crash\?why="so"/.test(String(l.message)))
    expect(crash?.level).toBe('error')
    expect(String(crash?.message)).toContain('\n')
  })
})
