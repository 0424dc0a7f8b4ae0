/**
 * The dashboard host with a real arbiter serving the demo app: commands the browser and the
 * desktop app send (start again, open another app, loads, experiments) through the real
 * ControlServer, and the orderings the teaching kit's experiments must show.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ControlEvent, ExperimentResult } from '../../../src/shared/protocol.js'
import { DEMO, FIXTURES, get } from '../../helpers/proc.js'
import { startHosted, type Hosted } from '../../helpers/hosted.js'
import { join } from 'node:path'

let hosted: Hosted
const rps = (r: ExperimentResult) => r.result.requests / ((r.result.finishedAt - r.result.startedAt) / 1000)

describe('dashboard host', () => {
  beforeAll(async () => {
    hosted = await startHosted(['-w', '2', DEMO])
  })
  afterAll(() => hosted?.stop())

  it('runs a load in its own process, streams progress, and reports the result', async () => {
    const started = await hosted.run({ cmd: 'load.start', options: { url: '/', connections: 4, amount: 300, keepAlive: true } })
    expect(started.ok).toBe(true)
    // one load at a time
    const second = await hosted.run({ cmd: 'load.start', options: { url: '/', connections: 1, amount: 10, keepAlive: true } })
    expect(second).toMatchObject({ ok: false, error: { code: 'PADDOCK_ERR_BUSY' } })
    const done = await new Promise<Extract<ControlEvent, { type: 'load.done' }>>((resolve) => {
      const check = setInterval(() => {
        const e = hosted.events.find((x) => x.type === 'load.done')
        if (e) {
          clearInterval(check)
          resolve(e as Extract<ControlEvent, { type: 'load.done' }>)
        }
      }, 50)
    })
    expect(done.result.requests).toBe(300)
    expect(done.result.errors).toEqual({ refused: 0, reset: 0, timeout: 0, non2xx: 0, other: 0 })
    expect(hosted.events.some((e) => e.type === 'load.progress')).toBe(true)
    expect(hosted.host.snapshot().load).toBeNull()
  })

  it('refuses bad load options with a clear message', async () => {
    const r = await hosted.run({ cmd: 'load.start', options: { url: '/', connections: 0, duration: 1, keepAlive: true } })
    expect(r).toMatchObject({ ok: false, error: { code: 'PADDOCK_ERR_BAD_COMMAND', message: expect.stringContaining('connections') } })
    expect((await hosted.run({ cmd: 'load.stop' })).ok).toBe(false)
  })

  it('opens another app with a reload, and keeps the old one serving when the new one is broken', async () => {
    const bad = await hosted.run({ cmd: 'app.set', app: join(FIXTURES, 'apps/throws-on-import.mjs') })
    expect(bad.ok).toBe(false)
    expect((await get(hosted.port(), '/whoami')).status).toBe(200)
    const missing = await hosted.run({ cmd: 'app.set', app: '/no/such/app.mjs' })
    expect(missing).toMatchObject({ ok: false, error: { message: expect.stringContaining('no such module') } })
    const good = await hosted.run({ cmd: 'app.set', app: join(FIXTURES, 'apps/counting.mjs') })
    expect(good.ok).toBe(true)
    expect((await get(hosted.port(), '/seen')).status).toBe(200)
    expect(hosted.host.snapshot().app).toContain('counting.mjs')
    expect((await hosted.run({ cmd: 'app.set', app: DEMO })).ok).toBe(true)
  })

  it('stops, refuses steering while stopped, and starts again', async () => {
    expect((await hosted.run({ cmd: 'stop', mode: 'graceful' })).ok).toBe(true)
    for (let i = 0; i < 300 && hosted.host.snapshot().state !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 100))
    expect(hosted.host.snapshot().state, JSON.stringify(hosted.host.snapshot().workers.map((w) => [w.pid, w.state, w.generation, w.connections, w.inFlight]))).toBe('stopped')
    expect(await hosted.run({ cmd: 'workers.add' })).toMatchObject({ ok: false, error: { code: 'PADDOCK_ERR_STATE' } })
    expect((await hosted.run({ cmd: 'start' })).ok).toBe(true)
    expect(hosted.host.snapshot().state).toBe('running')
    expect((await get(hosted.port(), '/')).status).toBe(200)
    expect(await hosted.run({ cmd: 'start' })).toMatchObject({ ok: false, error: { code: 'PADDOCK_ERR_STATE' } })
  })

  it('experiments order the worker models as the model predicts (/io: async >= gthread >= sync; /block: gthread >= async)', async () => {
    const io = await hosted.run({
      cmd: 'experiment.run',
      options: {
        load: { url: '/io?ms=100', connections: 20, duration: 2, keepAlive: true },
        subjects: [
          { workerClass: 'sync', workers: 2 },
          { workerClass: 'gthread', workers: 2, threads: 4 },
          { workerClass: 'async', workers: 2 },
        ],
      },
    })
    expect(io.ok, JSON.stringify(io)).toBe(true)
    const ior = (io as { data: { results: ExperimentResult[]; explanation: string } }).data
    const [sync, gthread, async_] = ior.results.map(rps)
    console.log(`/io?ms=100, 20 connections: sync ${sync!.toFixed(1)}, gthread ${gthread!.toFixed(1)}, async ${async_!.toFixed(1)} req/s`)
    // caps: sync 2 / 0.1 s = 20, gthread 8 / 0.1 s = 80, async 20 / 0.1 s = 200
    expect(async_!).toBeGreaterThanOrEqual(gthread!)
    expect(gthread!).toBeGreaterThanOrEqual(sync!)
    expect(ior.explanation).toMatch(/Winner: async/)

    const block = await hosted.run({
      cmd: 'experiment.run',
      options: {
        load: { url: '/block?ms=50', connections: 8, duration: 2, keepAlive: true },
        subjects: [
          { workerClass: 'async', workers: 2 },
          { workerClass: 'gthread', workers: 2, threads: 4 },
        ],
      },
    })
    expect(block.ok, JSON.stringify(block)).toBe(true)
    const [a, g] = (block as { data: { results: ExperimentResult[] } }).data.results.map(rps)
    console.log(`/block?ms=50, 8 connections: async ${a!.toFixed(1)}, gthread ${g!.toFixed(1)} req/s`)
    expect(g!).toBeGreaterThanOrEqual(a!)
  })
})
