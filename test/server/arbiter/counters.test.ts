/**
 * The snapshot's counters, kept by the worker table (spawns, exits, kills, requests) and the
 * watchdog (timeouts): a hosted server with real workers, driven through the ControlServer
 * as the dashboard and `ctl` drive it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO, get, sleep } from '../../helpers/proc.js'
import { startHosted, type Hosted } from '../../helpers/hosted.js'

let hosted: Hosted
const counters = () => hosted.host.snapshot().counters

async function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`not in time: ${what} (${JSON.stringify(counters())})`)
    await sleep(50)
  }
}

describe("the snapshot's counters", () => {
  beforeAll(async () => {
    hosted = await startHosted(['-w', '1', '-k', 'sync', '--timeout', '3', DEMO])
  })
  afterAll(() => hosted?.stop())

  it("count a kill, its exit and the respawn, and keep the killed worker's requests", async () => {
    for (let i = 0; i < 5; i++) expect((await get(hosted.port(), '/')).status).toBe(200)
    await until('the heartbeat reports 5 requests', () => counters().requests >= 5)
    const [pid] = hosted.host.workerPids()
    expect(await hosted.run({ cmd: 'workers.kill', pid: pid!, signal: 'SIGKILL' })).toMatchObject({ ok: true })
    await until('a new worker is ready', () => hosted.host.snapshot().workers.some((w) => w.state === 'ready' && w.pid !== pid))
    const c = counters()
    expect(c.workersKilled).toBe(1)
    expect(c.workersExited).toBeGreaterThanOrEqual(1)
    // one worker serves: every spawn but one has exited
    expect(c.workersSpawned - c.workersExited).toBe(1)
    expect(c.requests).toBeGreaterThanOrEqual(5)
    // a pid that is no worker of this server is refused
    expect(await hosted.run({ cmd: 'workers.kill', pid: process.pid })).toMatchObject({ ok: false, error: { code: 'PADDOCK_ERR_NO_SUCH_WORKER' } })
    expect(counters().workersKilled).toBe(1)
  })

  it('count a worker aborted for silence past --timeout', async () => {
    const before = counters().timeouts
    const blocked = get(hosted.port(), '/block?ms=8000', { timeoutMs: 20_000 }).catch(() => null)
    await until('the blocked worker is aborted', () => counters().timeouts > before)
    await blocked
  })
})
