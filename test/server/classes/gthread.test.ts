/**
 * gthread: the process's main thread owns the connections and hands each request to a free
 * thread. Counted, not timed, where possible: which thread ran what, and how many at once.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import http from 'node:http'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEMO, FIXTURES, get, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'

afterEach(stopAll)

/** the most intervals overlapping at one instant, per key */
function maxOverlap(rows: { key: string; start: number; end: number }[]): Map<string, number> {
  const out = new Map<string, number>()
  const byKey = new Map<string, { start: number; end: number }[]>()
  for (const r of rows) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r])
  for (const [key, list] of byKey) {
    const edges = list.flatMap((r) => [[r.start, 1] as const, [r.end, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1])
    let cur = 0
    let max = 0
    for (const [, d] of edges) max = Math.max(max, (cur += d))
    out.set(key, max)
  }
  return out
}

describe('gthread', () => {
  it('runs at most one request per thread and at most --threads per worker', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'paddock-iv-')), 'intervals')
    writeFileSync(file, '')
    const p = await startPaddock(['-w', '2', '-k', 'gthread', '--threads', '3', join(FIXTURES, 'apps/intervals.mjs')], { env: { INTERVALS_FILE: file } })
    await waitForWorkers(p, 2)
    const replies = await Promise.all(Array.from({ length: 24 }, () => get(p.port, '/hold?ms=150')))
    expect(replies.every((r) => r.status === 200)).toBe(true)
    const rows = readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number) as [number, number, number, number])
    expect(rows).toHaveLength(24)
    const perThread = maxOverlap(rows.map(([pid, tid, start, end]) => ({ key: `${pid}:${tid}`, start, end })))
    const perWorker = maxOverlap(rows.map(([pid, , start, end]) => ({ key: String(pid), start, end })))
    expect(Math.max(...perThread.values())).toBe(1)
    expect(Math.max(...perWorker.values())).toBeLessThanOrEqual(3)
    // and the pool was really used in parallel
    expect(Math.max(...perWorker.values())).toBeGreaterThanOrEqual(2)
    // the app ran on threads, never on a worker's main thread
    expect(rows.every(([, tid]) => tid >= 1)).toBe(true)
  })

  it('an idle kept-alive connection holds no thread', async () => {
    const p = await startPaddock(['-w', '1', '-k', 'gthread', '--threads', '2', DEMO])
    await waitForWorkers(p, 1)
    // four clients each keep a connection open after one request
    const agents = Array.from({ length: 4 }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }))
    for (const agent of agents) expect((await get(p.port, '/', { agent })).headers.connection).toBe('keep-alive')
    // two of those connections now send blocking requests at once: both threads are free for them
    const t0 = Date.now()
    const two = await Promise.all([get(p.port, '/block?ms=600', { agent: agents[0] }), get(p.port, '/block?ms=600', { agent: agents[3] })])
    const ms = Date.now() - t0
    expect(two.map((r) => r.status)).toEqual([200, 200])
    // in parallel ~0.6 s; one after the other would be >= 1.2 s
    expect(ms).toBeLessThan(1150)
    for (const a of agents) a.destroy()
  })

  it('writes the access log, and carries a large request body to the thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-gt-'))
    const log = join(dir, 'access.log')
    const p = await startPaddock(['-w', '1', '-k', 'gthread', '--threads', '2', '--access-logfile', log, DEMO])
    await waitForWorkers(p, 1)
    for (let i = 0; i < 5; i++) expect((await get(p.port, `/?n=${i}`)).status).toBe(200)
    const echo = JSON.parse((await get(p.port, '/echo', { method: 'POST', body: 'x'.repeat(70_000) })).body)
    expect(echo.body).toHaveLength(70_000)
    await new Promise((r) => setTimeout(r, 200))
    const lines = readFileSync(log, 'utf8').trim().split('\n')
    expect(lines.filter((l) => l.includes('"GET /?n='))).toHaveLength(5)
    expect(lines[0]).toMatch(/^127\.0\.0\.1 /)
  })
})

describe('gthread: between the main thread and a worker thread', () => {
  const HOP = join(FIXTURES, 'apps/hop.mjs')

  it('streams an 8 MiB answer intact to a slow reader, holding back the thread while the client lags', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'paddock-hop-')), 'hop')
    writeFileSync(file, '')
    const p = await startPaddock(['-w', '1', '-k', 'gthread', '--threads', '2', HOP], { env: { HOP_FILE: file } })
    await waitForWorkers(p, 1)
    const { bytes, bad } = await new Promise<{ bytes: number; bad: number }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: p.port, path: '/big?mib=8' }, (res) => {
        let bytes = 0
        let bad = 0
        res.on('data', (c: Buffer) => {
          // every byte must be its chunk's number: nothing lost, reordered or doubled
          for (let k = 0; k < c.length; k += 4093) if (c[k] !== Math.floor((bytes + k) / 65536) % 251) bad++
          bytes += c.length
          // read slowly at first: the client lags far behind the app
          if (bytes < 2 * 1024 * 1024) {
            res.pause()
            setTimeout(() => res.resume(), 40)
          }
        })
        res.on('end', () => resolve({ bytes, bad }))
        res.on('error', reject)
      })
    })
    expect(bytes).toBe(8 * 1024 * 1024)
    expect(bad).toBe(0)
    await new Promise((r) => setTimeout(r, 100))
    // the thread's writes were held back at least once instead of piling up in memory
    const waits = Number(/drain-waits (\d+)/.exec(readFileSync(file, 'utf8'))?.[1] ?? -1)
    expect(waits).toBeGreaterThan(0)
  })

  it('carries every byte value both ways, small answers and large, whole buffers and slices of bigger ones', async () => {
    const p = await startPaddock(['-w', '1', '-k', 'gthread', '--threads', '2', HOP])
    await waitForWorkers(p, 1)
    const fetchBytes = (path: string) =>
      new Promise<Buffer>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: p.port, path }, (res) => {
          const parts: Buffer[] = []
          res.on('data', (c: Buffer) => parts.push(c))
          res.on('end', () => resolve(Buffer.concat(parts)))
          res.on('error', reject)
        }).on('error', reject)
      })
    // small (one string), at the boundary, and large (one moved buffer); whole and in slices
    for (const [n, slice] of [[1, 1], [256, 256], [300, 7], [8192, 8192], [8193, 1000], [200_000, 200_000], [200_000, 3000]] as const) {
      const got = await fetchBytes(`/bytes?n=${n}&slice=${slice}`)
      expect(got.length, `n=${n} slice=${slice}`).toBe(n)
      let bad = 0
      for (let i = 0; i < n; i++) if (got[i] !== (i * 7 + 3) % 256) bad++
      expect(bad, `n=${n} slice=${slice}`).toBe(0)
    }
    for (const n of [1, 256, 8192, 8193, 300_000]) {
      const body = Buffer.alloc(n)
      for (let i = 0; i < n; i++) body[i] = (i * 13 + 5) % 256
      const r = await get(p.port, '/digest', { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } })
      expect(r.body).toBe(`${n} ${createHash('sha256').update(body).digest('hex')}`)
    }
  })

  it("passes an app's own chunked framing through once, and repeated headers as they were", async () => {
    const p = await startPaddock(['-w', '1', '-k', 'gthread', '--threads', '2', HOP])
    await waitForWorkers(p, 1)
    const chunked = await get(p.port, '/chunked')
    expect(chunked.status).toBe(200)
    expect(chunked.body).toBe('abcdefghij')
    const cookies = await get(p.port, '/cookies')
    expect(cookies.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/'])
    expect(cookies.body).toBe('two cookies')
  })

  it('a client that leaves frees its thread, and the app sees its response close', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'paddock-hop-')), 'hop')
    writeFileSync(file, '')
    const p = await startPaddock(['-w', '1', '-k', 'gthread', '--threads', '1', HOP], { env: { HOP_FILE: file } })
    await waitForWorkers(p, 1)
    const gone = http.get({ host: '127.0.0.1', port: p.port, path: '/hang' })
    gone.on('error', () => {})
    await new Promise((r) => setTimeout(r, 300))
    gone.destroy()
    // one thread only: this is answered only if the abandoned request gave it back
    const next = await get(p.port, '/', { timeoutMs: 5000 })
    expect(next.body).toBe('ok')
    await new Promise((r) => setTimeout(r, 100))
    expect(readFileSync(file, 'utf8')).toContain('closed finished=false')
  })

  it('an app that reads its upload slowly holds the client back instead of buffering the whole body', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'paddock-hop-')), 'hop')
    writeFileSync(file, '')
    const p = await startPaddock(['-w', '1', '-k', 'gthread', '--threads', '1', HOP], { env: { HOP_FILE: file } })
    await waitForWorkers(p, 1)
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const body = 'u'.repeat(8 * 1024 * 1024)
    const r = await get(p.port, '/slow-upload', { method: 'POST', body, agent, timeoutMs: 60_000 })
    expect(r.body).toBe(String(body.length))
    // the same kept-alive connection carries the next request
    expect((await get(p.port, '/', { agent })).body).toBe('ok')
    agent.destroy()
    await new Promise((res) => setTimeout(res, 100))
    const m = /upload seen=(\d+) maxWaiting=(\d+)/.exec(readFileSync(file, 'utf8'))!
    expect(Number(m[1])).toBe(body.length)
    // at most about one window (1 MiB) ever waited in the thread; without it, megabytes
    expect(Number(m[2])).toBeLessThan(2 * 1024 * 1024)
  })
})
