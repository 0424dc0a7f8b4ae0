import { afterEach, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { DEMO, FIXTURES, alive, childPids, get, sleep, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'

afterEach(stopAll)

describe('arbiter supervision', () => {
  it('kills a worker whose event loop is blocked past --timeout and names the request', async () => {
    const p = await startPaddock(['-w', '1', '-t', '2', DEMO])
    const [worker] = await waitForWorkers(p, 1)
    const stuck = get(p.port, '/block?ms=20000').catch((e: Error) => e)
    const line = await p.waitFor(/WORKER TIMEOUT \(pid:(\d+)\) silent for [\d.]+ s while running GET \/block\?ms=20000 for [\d.]+ s/, 15_000)
    expect(Number(line[1])).toBe(worker)
    expect(await stuck).toBeInstanceOf(Error)
    const [replacement] = await waitForWorkers(p, 1)
    expect(replacement).not.toBe(worker)
    expect(alive(worker)).toBe(false)
  })

  it('recycles a worker after --max-requests, starting its replacement first', async () => {
    const p = await startPaddock(['-w', '1', '--max-requests', '5', DEMO])
    const [first] = await waitForWorkers(p, 1)
    const pids = new Set<number>()
    const deadline = Date.now() + 8000
    while (pids.size < 2 && Date.now() < deadline) {
      const r = await get(p.port, '/whoami')
      expect(r.status).toBe(200)
      pids.add(JSON.parse(r.body).pid)
      await sleep(50)
    }
    await p.waitFor(new RegExp(`Worker ${first} reached max requests`))
    expect(pids.size).toBe(2)
    await p.waitFor(new RegExp(`Worker exiting \\(pid: ${first}\\): max requests reached`))
    expect(childPids(p.pid)).toHaveLength(1)
  })

  it('a crash loop backs off and ends in a visible errored state, master still up', async () => {
    const p = await startPaddock(['-w', '1', join(FIXTURES, 'apps/crash-after-ready.mjs')])
    await p.waitFor(/workers keep failing \(5 times in a row\)/, 30_000)
    // each death is named for what it was: a worker that died soon after it was ready
    expect(p.output()).toMatch(/Worker died \d+\.\d s after it was ready, counted as a crash 1\/5 in a row; next spawn in \d+ ms/)
    const spawned = (p.output().match(/Booting worker/g) ?? []).length
    expect(spawned).toBeLessThanOrEqual(6)
    await sleep(1500)
    expect((p.output().match(/Booting worker/g) ?? []).length).toBe(spawned)
    expect(alive(p.pid)).toBe(true)
  })

  it('a reload whose new generation cannot boot leaves the old one serving', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const dir = mkdtempSync(join(tmpdir(), 'paddock-rb-'))
    const app = join(dir, 'app.mjs')
    // a self-contained app (no packages to resolve from the temporary directory)
    writeFileSync(app, "export default (req, res) => res.end(JSON.stringify({ pid: process.pid }))\n")
    const p = await startPaddock(['-w', '2', '--log-level', 'debug', app])
    const before = await waitForWorkers(p, 2)
    // both of the first generation have loaded the app before it breaks (on a loaded machine
    // the processes exist well before they are ready, and a first boot that fails stops paddock)
    await p.waitFor(/Worker ready[\s\S]*Worker ready/)
    writeFileSync(app, 'throw new Error("broken deploy")\n')
    process.kill(p.pid, 'SIGHUP')
    await p.waitFor(/reload failed, the previous generation keeps serving: boot failed: .*broken deploy/, 15_000)
    await sleep(500)
    const r = await get(p.port, '/')
    expect(r.status).toBe(200)
    expect(before).toContain(JSON.parse(r.body).pid)
  })
})
