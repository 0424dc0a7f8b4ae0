/**
 * Hooks may be async and are awaited within a bound (issue 15), and an app's close() runs
 * once per worker after its last request. Real processes; what ran is read from files the
 * hooks and apps write, since an unawaited one would never get to write them.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEMO, FIXTURES, get, sleep, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'

afterEach(stopAll)

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'paddock-ahooks-'))
}

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [])

describe('async hooks', () => {
  it('awaits async hooks on the way in and out: their files exist after TERM', async () => {
    const dir = tmp()
    const trace = join(dir, 'trace.txt')
    writeFileSync(
      join(dir, 'paddock.config.mjs'),
      `import { appendFileSync } from 'node:fs'
const later = (what, ms) => new Promise((r) => setTimeout(() => { appendFileSync(${JSON.stringify(trace)}, what + ' ' + process.pid + '\\n'); r() }, ms))
export default {
  on_starting: () => later('on_starting', 200),
  post_fork: () => later('post_fork', 200),
  post_worker_init: () => later('post_worker_init', 200),
  when_ready: () => later('when_ready', 200),
  worker_int: () => later('worker_int', 300),
  worker_exit: () => later('worker_exit', 300),
  on_exit: () => later('on_exit', 300),
}
`,
    )
    const p = await startPaddock(['-w', '1', DEMO], { cwd: dir })
    const [worker] = await waitForWorkers(p, 1)
    expect((await get(p.port, '/')).status).toBe(200)
    // post_fork and post_worker_init finished before the worker served
    const booted = lines(trace)
    expect(booted).toContain(`post_fork ${worker}`)
    expect(booted).toContain(`post_worker_init ${worker}`)
    expect(booted).toContain(`on_starting ${p.pid}`)
    process.kill(p.pid, 'SIGTERM')
    expect(await p.exited).toMatchObject({ code: 0 })
    const all = lines(trace)
    expect(all).toContain(`when_ready ${p.pid}`)
    expect(all).toContain(`worker_int ${worker}`)
    expect(all).toContain(`worker_exit ${worker}`)
    expect(all.at(-1)).toBe(`on_exit ${p.pid}`)
    expect(all.indexOf(`worker_exit ${worker}`)).toBeGreaterThan(all.indexOf(`worker_int ${worker}`))
  })

  it('gives up on a hook after its bound with one log line, and on one that rejects, and carries on', async () => {
    const dir = tmp()
    writeFileSync(
      join(dir, 'paddock.config.mjs'),
      `export default {
  when_ready: () => new Promise(() => {}),
  post_worker_init: async () => { throw new Error('pool refused') },
  worker_exit: () => new Promise(() => {}),
}
`,
    )
    const p = await startPaddock(['-w', '1', '--boot-timeout', '1', '--graceful-timeout', '1', DEMO], { cwd: dir })
    await waitForWorkers(p, 1)
    await p.waitFor(/hook when_ready did not finish within 1\.0 s \(--boot-timeout\): carrying on without it/)
    expect((await get(p.port, '/')).status).toBe(200)
    expect(p.output().match(/hook post_worker_init raised: pool refused/g)).toHaveLength(1)
    const t0 = Date.now()
    process.kill(p.pid, 'SIGTERM')
    expect(await p.exited).toMatchObject({ code: 0 })
    expect(Date.now() - t0).toBeLessThan(10_000)
    expect(p.output().match(/hook worker_exit did not finish within [\d.]+ s \(--graceful-timeout\)/g)).toHaveLength(1)
    // the worker left by itself, not killed by the master's backstop
    expect(p.output()).not.toMatch(/exited unexpectedly/)
  })
})

describe('app close()', () => {
  for (const [workerClass, extra, perWorker] of [['sync', [], 1], ['gthread', ['--threads', '2'], 2]] as const) {
    it(`${workerClass}: runs once per ${perWorker === 1 ? 'worker' : 'thread'}, after the last request finished`, async () => {
      const dir = tmp()
      const trace = join(dir, 'trace.txt')
      const p = await startPaddock(['-w', '1', '-k', workerClass, ...extra, join(FIXTURES, 'apps/closing.mjs')], { env: { TRACE_FILE: trace } })
      const [worker] = await waitForWorkers(p, 1)
      // it answers: booted (a TERM while it boots stops it before it accepts anything)
      expect((await get(p.port, '/?ms=1')).status).toBe(200)
      const slow = get(p.port, '/?ms=800')
      await sleep(200)
      process.kill(p.pid, 'SIGTERM')
      expect((await slow).status).toBe(200)
      expect(await p.exited).toMatchObject({ code: 0 })
      const all = lines(trace)
      const closes = all.filter((l) => l.startsWith(`close ${worker} `))
      expect(closes).toHaveLength(perWorker)
      const served = all.filter((l) => l.startsWith(`served ${worker} `)).at(-1)!
      for (const c of closes) {
        expect(c).toMatch(/inflight=0$/)
        expect(Number(c.split(' ')[3])).toBeGreaterThanOrEqual(Number(served.split(' ')[3]))
      }
    })
  }

  it("native: calls Fastify's own close() (its onClose hooks run)", async () => {
    const dir = tmp()
    const trace = join(dir, 'trace.txt')
    const p = await startPaddock(['-w', '1', '-k', 'native', join(FIXTURES, 'apps/native-fastify-closing.mjs')], { env: { TRACE_FILE: trace } })
    const [worker] = await waitForWorkers(p, 1)
    expect((await get(p.port, '/')).status).toBe(200)
    process.kill(p.pid, 'SIGTERM')
    expect(await p.exited).toMatchObject({ code: 0 })
    expect(lines(trace)).toEqual([`fastify onClose ${worker}`])
  })
})
