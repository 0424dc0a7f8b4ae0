/**
 * The engine's guard rails (issue 19) through the real ControlServer on a real Host: the
 * worker bound, setting changes applied for real or refused, and what survives a stop and
 * a start (runtime changes, the generation count).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ControlEvent } from '../../../src/shared/protocol.js'
import { startHosted, type Hosted } from '../../helpers/hosted.js'
import { join } from 'node:path'
import { DEMO, FIXTURES, runCli, sleep } from '../../helpers/proc.js'

let hosted: Hosted
let host: Hosted['host']
const run: Hosted['run'] = (command) => hosted.run(command)
const setting = (name: string) => host.settings().find((s) => s.name === name)!

async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await sleep(50)
  }
}

describe('guard rails on a hosted server', () => {
  beforeAll(async () => {
    hosted = await startHosted(['-w', '1', '--max-workers', '3', DEMO], { rateHz: 10 })
    host = hosted.host
  })
  afterAll(() => hosted?.stop())

  it('scale and add beyond max_workers are refused with the reason, and nothing is spawned', async () => {
    const scale = await run({ cmd: 'workers.scale', count: 500 })
    expect(scale).toMatchObject({ ok: false, error: { code: 'PADDOCK_ERR_INVALID_VALUE' } })
    expect(!scale.ok && scale.error.message).toMatch(/above max_workers \(3/)
    expect((await run({ cmd: 'workers.add', count: 3 })).ok).toBe(false)
    expect((await run({ cmd: 'config.set', name: 'workers', value: 4 })).ok).toBe(false)
    expect(host.snapshot().targetWorkers).toBe(1)
    expect(setting('workers').value).toBe(1)
    expect((await run({ cmd: 'workers.scale', count: 3 })).ok).toBe(true)
    // the bound cannot be lowered under what runs
    const lower = await run({ cmd: 'config.set', name: 'max_workers', value: 2 })
    expect(!lower.ok && lower.error.message).toMatch(/scale down first/)
    expect((await run({ cmd: 'workers.scale', count: 1 })).ok).toBe(true)
  })

  it('a bind change is refused (sockets are bound at start) and the table keeps what is in effect', async () => {
    const before = setting('bind').value
    for (const value of ['not a bind', '127.0.0.1:0']) {
      const r = await run({ cmd: 'config.set', name: 'bind', value })
      expect(r).toMatchObject({ ok: false, error: { code: 'PADDOCK_ERR_INVALID_VALUE' } })
    }
    expect(setting('bind').value).toEqual(before)
  })

  it('an empty timeout is refused instead of becoming null; a valid one is applied and shown', async () => {
    expect(await run({ cmd: 'config.set', name: 'timeout', value: '' })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/needs a value/) } })
    expect(await run({ cmd: 'config.set', name: 'timeout', value: null })).toMatchObject({ ok: false })
    expect(setting('timeout').value).toBe(30)
    expect((await run({ cmd: 'config.set', name: 'graceful_timeout', value: '7' })).ok).toBe(true)
    expect(setting('graceful_timeout')).toMatchObject({ value: 7, source: 'control' })
  })

  it('a failed reload is reported until a good one serves; its generation number is not given out again', async () => {
    const failed = await run({ cmd: 'app.set', app: join(FIXTURES, 'apps/throws-on-import.mjs') })
    expect(failed.ok).toBe(false)
    const s = host.snapshot()
    expect(s.lastError).toMatch(/reload failed/)
    const failedGeneration = s.generation + 1
    const good = await run({ cmd: 'reload' })
    expect(good.ok).toBe(true)
    expect(host.snapshot().lastError).toBeNull()
    expect(host.snapshot().generation).toBe(failedGeneration + 1)
  })

  it('stop then start keeps the runtime class and settings, and generations keep counting', async () => {
    const changed = await run({ cmd: 'class.set', workerClass: 'async' })
    expect(changed.ok).toBe(true)
    const genBefore = host.snapshot().generation
    expect(genBefore).toBeGreaterThanOrEqual(2)
    expect((await run({ cmd: 'stop', mode: 'quick' })).ok).toBe(true)
    await until(() => host.snapshot().state === 'stopped')
    expect((await run({ cmd: 'start' })).ok).toBe(true)
    const s = host.snapshot()
    expect(s.workerClass).toBe('async')
    expect(setting('graceful_timeout').value).toBe(7)
    expect(s.generation).toBe(genBefore + 1)
    expect(s.workers.filter((w) => w.state !== 'exited').every((w) => w.generation === genBefore + 1)).toBe(true)
  })

  it('an experiment puts the server back to its class and size afterwards, and their progress names the subject under test', async () => {
    const before = host.snapshot()
    const progress: ControlEvent[] = []
    const off = host.onEvent((e) => e.type === 'load.progress' && progress.push(e))
    const r = await run({ cmd: 'experiment.run', options: { load: { url: '/', connections: 2, amount: 40, keepAlive: true }, subjects: [{ workerClass: 'sync', workers: 2 }] } })
    off()
    expect(r.ok).toBe(true)
    await until(() => host.snapshot().reload === null && host.snapshot().workerClass === before.workerClass)
    expect(host.snapshot().targetWorkers).toBe(before.targetWorkers)
    const named = progress.find((e) => e.type === 'load.progress' && e.load.experiment)
    expect(named && named.type === 'load.progress' && named.load.experiment).toMatchObject({ subject: { workerClass: 'sync', workers: 2 }, index: 0, of: 1 })
  })
})

describe('the worker bound at start', () => {
  it('-w beyond --max-workers is refused with the reason, and --check-config says so too', async () => {
    const serve = await runCli(['-w', '500', '--max-workers', '16', '-b', '127.0.0.1:0', DEMO])
    expect(serve.code).toBe(2)
    expect(serve.stderr).toMatch(/500 workers is above max_workers \(16/)
    const check = await runCli(['-w', '500', '--max-workers', '16', '--check-config', DEMO])
    expect(check.code).toBe(2)
    expect(check.stderr).toMatch(/above max_workers/)
  })

  it('--help shows the bound with its default from this machine', async () => {
    const help = await runCli(['--help'])
    expect(help.stdout).toMatch(/--max-workers INT\s+Upper bound on workers.*\[default: \d+\]/)
  })
})
