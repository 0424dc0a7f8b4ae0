import { afterEach, describe, expect, it } from 'vitest'
import http from 'node:http'
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { DEMO, get, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'

afterEach(stopAll)

/** user + system CPU time of a process, in ms, from /proc/PID/stat (clock ticks of 10 ms) */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

interface Who {
  pid: number
  threadId: number
  workerClass: string
}

describe('worker classes', () => {
  it('gthread: 4 concurrent blocking requests run in parallel on one worker, 8 take two rounds', async () => {
    const p = await startPaddock(['-w', '1', '-k', 'gthread', '--threads', '4', DEMO])
    await waitForWorkers(p, 1)
    // Time is the witness, with wide bounds for a loaded 2-core machine: 4 blocking calls of
    // 1 s in parallel take ~1 s (one at a time: 4 s); 8 need at least two rounds.
    const t0 = Date.now()
    const four = await Promise.all(Array.from({ length: 4 }, () => get(p.port, '/block?ms=1000')))
    const fourMs = Date.now() - t0
    expect(four.every((r) => r.status === 200)).toBe(true)
    expect(fourMs).toBeLessThan(2800)
    const t1 = Date.now()
    const eight = await Promise.all(Array.from({ length: 8 }, () => get(p.port, '/block?ms=1000')))
    expect(eight.every((r) => r.status === 200)).toBe(true)
    expect(Date.now() - t1).toBeGreaterThanOrEqual(1950)
  })

  it('gthread: the demo app\'s /cpu burns CPU, so threads beyond the cores add no throughput', async () => {
    // With twice as many threads as cores, a spin bound by the clock would get half a core
    // each and finish after half the work. Counted in CPU time from /proc, not wall-clock:
    // N requests of /cpu?ms=M must cost the worker about N x M ms of CPU.
    const threads = Math.min(8, 2 * availableParallelism())
    const p = await startPaddock(['-w', '1', '-k', 'gthread', '--threads', String(threads), DEMO])
    const [pid] = await waitForWorkers(p, 1)
    await Promise.all(Array.from({ length: threads }, () => get(p.port, '/cpu?ms=1')))
    const before = cpuMs(pid!)
    const replies = await Promise.all(Array.from({ length: threads }, () => get(p.port, '/cpu?ms=300')))
    const spent = cpuMs(pid!) - before
    expect(replies.every((r) => r.status === 200)).toBe(true)
    expect(spent).toBeGreaterThanOrEqual(threads * 300 * 0.7)
  })

  it('gthread: requests run on worker threads of one process', async () => {
    const p = await startPaddock(['-w', '1', '-k', 'gthread', '--threads', '4', DEMO])
    const [pid] = await waitForWorkers(p, 1)
    // /block holds each thread, so 4 concurrent requests must land on 4 different threads.
    const held = Array.from({ length: 4 }, () => get(p.port, '/block?ms=400'))
    await Promise.all(held)
    const threads = new Set<number>()
    const whos = await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        // each /whoami rides behind a blocking call on a fresh connection
        await new Promise((r) => setTimeout(r, i))
        return JSON.parse((await get(p.port, '/whoami')).body) as Who
      }),
    )
    for (const w of whos) {
      expect(w.workerClass).toBe('gthread')
      expect(w.pid).toBe(pid)
      expect(w.threadId).toBeGreaterThanOrEqual(1)
      threads.add(w.threadId)
    }
    expect(threads.size).toBeGreaterThanOrEqual(1)
  })

  it('async: one worker holds many slow I/O requests at once, but a blocking call stalls its loop', async () => {
    const p = await startPaddock(['-w', '1', '-k', 'async', DEMO])
    await waitForWorkers(p, 1)
    const t0 = Date.now()
    const many = await Promise.all(Array.from({ length: 100 }, () => get(p.port, '/io?ms=500')))
    const ioMs = Date.now() - t0
    expect(many.every((r) => r.status === 200)).toBe(true)
    expect(ioMs).toBeLessThan(2500)
    const t1 = Date.now()
    await Promise.all([get(p.port, '/block?ms=500'), get(p.port, '/block?ms=500')])
    expect(Date.now() - t1).toBeGreaterThanOrEqual(950)
  })

  it('async keeps connections alive; sync closes every one', async () => {
    const a = await startPaddock(['-w', '1', '-k', 'async', DEMO])
    await waitForWorkers(a, 1)
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const ra = await get(a.port, '/', { agent })
    expect(ra.headers.connection).toBe('keep-alive')
    const s = await startPaddock(['-w', '1', DEMO])
    await waitForWorkers(s, 1)
    const rs = await get(s.port, '/', { agent })
    expect(rs.headers.connection).toBe('close')
    expect(rs.headers.server).toBe('paddock')
    agent.destroy()
  })

  it('an error thrown by the app answers 500 and the worker survives, in every class', async () => {
    for (const cls of ['sync', 'async', 'gthread']) {
      const p = await startPaddock(['-w', '1', '-k', cls, DEMO])
      const [pid] = await waitForWorkers(p, 1)
      const r = await get(p.port, '/crash')
      expect(r.status).toBe(500)
      const ok = await get(p.port, '/whoami')
      expect(JSON.parse(ok.body).pid).toBe(pid)
    }
  })
})
