import { describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatAccessLog, type AccessAtoms } from '../../../src/server/log/access.js'
import { ErrorLog } from '../../../src/server/log/logger.js'

const DEFAULT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'

function atoms(over: Partial<AccessAtoms> = {}): AccessAtoms {
  return {
    remoteAddress: '127.0.0.1',
    method: 'GET',
    url: '/hello?x=1',
    httpVersion: '1.1',
    status: 200,
    bytes: 12,
    durationMs: 3.4,
    pid: 4242,
    at: new Date('2026-12-03T10:00:00Z'),
    requestHeaders: { 'user-agent': 'curl/8', authorization: 'Basic ' + Buffer.from('ann:pw').toString('base64') },
    responseHeaders: { 'content-type': 'text/plain' },
    ...over,
  }
}

describe('JSON access log lines', () => {
  it('names every atom of the default format with a readable field', () => {
    const line = JSON.parse(formatAccessLog(DEFAULT, atoms(), 'json'))
    expect(line).toMatchObject({
      time: '2026-12-03T10:00:00.000Z',
      level: 'info',
      pid: 4242,
      type: 'access',
      remote_addr: '127.0.0.1',
      ident: null,
      user: 'ann',
      request: 'GET /hello?x=1 HTTP/1.1',
      status: 200,
      bytes: 12,
      referer: null,
      user_agent: 'curl/8',
    })
  })

  it('puts header atoms in nested objects and keeps numbers as numbers', () => {
    const line = JSON.parse(formatAccessLog('%(U)s %(q)s %(M)s %(D)s %({content-type}o)s %({X-Trace}i)s', atoms(), 'json'))
    expect(line).toMatchObject({ path: '/hello', query: 'x=1', duration_ms: 3, duration_us: 3400, response_headers: { 'content-type': 'text/plain' }, request_headers: { 'x-trace': null } })
  })

  it('parses for every control byte and quote a client can put in the path or a header', () => {
    for (let c = 0; c < 0x20; c++) {
      const ch = String.fromCharCode(c)
      const raw = formatAccessLog(DEFAULT, atoms({ url: `/a${ch}"\\b`, requestHeaders: { 'user-agent': `x${ch}y"` } }), 'json')
      expect(raw).not.toContain('\n')
      const line = JSON.parse(raw)
      expect(line.request).toBe(`GET /a${ch}"\\b HTTP/1.1`)
      expect(line.user_agent).toBe(`x${ch}y"`)
    }
  })

  it('keeps the text format as Gunicorn writes it, control bytes escaped', () => {
    expect(formatAccessLog(DEFAULT, atoms({ url: '/a\x1b"' }))).toBe('127.0.0.1 - ann [03/Dec/2026:10:00:00 +0000] "GET /a\\x1b\\" HTTP/1.1" 200 12 "-" "curl/8"'.replace('+0000', tzOffset()))
  })
})

describe('JSON error log lines', () => {
  it('writes one object a line with time, level, pid and message, whatever the message holds', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'paddock-log-')), 'error.log')
    const log = new ErrorLog(file, 'debug', 'json')
    log.info('Booting worker with pid: 7')
    log.log('error', 'multi\nline\x00 "quoted"', 99)
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n')
    expect(lines).toHaveLength(2)
    const [a, b] = lines.map((l) => JSON.parse(l))
    expect(a).toMatchObject({ level: 'info', pid: process.pid, message: 'Booting worker with pid: 7' })
    expect(new Date(a.time).toString()).not.toBe('Invalid Date')
    expect(b).toMatchObject({ level: 'error', pid: 99, message: 'multi\nline\x00 "quoted"' })
  })
})

function tzOffset(): string {
  const off = -new Date('2026-12-03T10:00:00Z').getTimezoneOffset()
  const pad = (n: number) => String(Math.abs(n)).padStart(2, '0')
  return `${off >= 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}${pad(Math.abs(off) % 60)}`
}
