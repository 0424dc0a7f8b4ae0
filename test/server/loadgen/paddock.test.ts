import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startLoad } from '../../../dist/server/loadgen/index.js'
import { DEMO, busyWorker, childPids, controlSocketPath, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'

let dir: string | null = null
const pids: number[] = []
afterEach(async () => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
  await stopAll()
  if (dir) rmSync(dir, { recursive: true, force: true })
  dir = null
})

function lines(file: string): number {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0
}

describe('load against a real paddock', () => {
  it('request count matches the access log', async () => {
    dir = mkdtempSync(join(tmpdir(), 'paddock-lg-'))
    const log = join(dir, 'access.log')
    const p = await startPaddock(['-w', '2', '--access-logfile', log, DEMO])
    const h = startLoad({ url: `http://127.0.0.1:${p.port}/io?ms=10`, connections: 4, duration: 1, keepAlive: true })
    if (h.pid) pids.push(h.pid)
    const r = await h.done
    expect(r.requests).toBeGreaterThan(20)
    // The access log is written after the response; give the workers a moment.
    const end = Date.now() + 3000
    while (lines(log) < r.requests && Date.now() < end) await new Promise((res) => setTimeout(res, 100))
    // At the end of the duration up to one request per connection may be in flight.
    expect(Math.abs(lines(log) - r.requests)).toBeLessThanOrEqual(4)
    expect(r.errors.non2xx).toBe(0)
  })

  it('a worker killed mid-run shows up as resets, never as non-2xx, and the run goes on', async () => {
    const sock = controlSocketPath()
    const p = await startPaddock(['-b', '127.0.0.1:0', '-w', '2', '-k', 'async', '--control-socket', sock, DEMO], { bind: false })
    await waitForWorkers(p, 2)
    const h = startLoad({ url: `http://127.0.0.1:${p.port}/io?ms=50`, connections: 8, duration: 3, keepAlive: true })
    if (h.pid) pids.push(h.pid)
    await new Promise((r) => setTimeout(r, 1000))
    // a worker that holds some of the connections (all 8 may have landed on one)
    const victim = await busyWorker(sock)
    process.kill(victim, 'SIGKILL')
    const r = await h.done
    // the killed worker's in-flight requests were cut: the client saw resets
    expect(r.errors.reset).toBeGreaterThan(0)
    expect(r.errors.reset).toBeLessThanOrEqual(8)
    expect(r.errors.non2xx).toBe(0)
    expect(r.errors.refused).toBe(0)
    // and the other worker (then the respawned one) kept serving
    expect(r.requests).toBeGreaterThan(100)
    expect(childPids(p.pid)).not.toContain(victim)
  })
})
