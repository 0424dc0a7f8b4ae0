import { afterEach, describe, expect, it } from 'vitest'
import http from 'node:http'
import { spawnSync } from 'node:child_process'
import { DEMO, alive, childPids, get, sleep, startPaddock, steadyLoad, stopAll, waitForWorkers } from '../../helpers/proc.js'

afterEach(stopAll)

/** connections waiting in the kernel's accept queue of the listening socket on this port */
function acceptQueue(port: number): number {
  const line = spawnSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).stdout.trim()
  return Number(line.split(/\s+/)[1])
}

async function whoami(port: number) {
  return JSON.parse((await get(port, '/whoami')).body) as { pid: number; generation: number; workerClass: string }
}

describe('arbiter signals', () => {
  it('runs a master and N workers, and the master never serves', async () => {
    const p = await startPaddock(['-w', '3', DEMO])
    const workers = await waitForWorkers(p, 3)
    const seen = new Set<number>()
    for (let i = 0; i < 30; i++) seen.add((await whoami(p.port)).pid)
    expect(seen.has(p.pid)).toBe(false)
    for (const pid of seen) expect(workers).toContain(pid)
  })

  it('sync: a busy worker does not accept, so 4 slow requests on 2 workers leave 2 waiting in the kernel queue', async () => {
    const p = await startPaddock(['-w', '2', DEMO])
    await waitForWorkers(p, 2)
    // both ready before the slow requests: a worker still booting accepts nothing either way
    for (let i = 0; i < 10; i++) await get(p.port, '/')
    const t0 = Date.now()
    const replies = Promise.all([0, 1, 2, 3].map(() => get(p.port, '/block?ms=2500')))
    // Counted: while both workers run a request, the other two connections wait in the
    // listening socket's accept queue (ss's Recv-Q); a busy worker that accepted one would
    // hold it unread and the queue would show fewer. Two reads in a row, to skip the moment
    // when a worker is between accepts.
    let queued = [] as number[]
    while (Date.now() - t0 < 2300 && !(queued.length >= 2 && queued.at(-1) === 2 && queued.at(-2) === 2)) {
      queued.push(acceptQueue(p.port))
      await sleep(100)
    }
    expect(queued.slice(-2), `accept queue over time: ${queued.join(' ')}`).toEqual([2, 2])
    const done = await replies
    expect(done.every((r) => r.status === 200)).toBe(true)
    expect(done.every((r) => r.headers.connection === 'close')).toBe(true)
    // and two rounds can never take less than two blocks
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4900)
  })

  it('TTIN twice adds two workers, TTOU removes one by draining it', async () => {
    const p = await startPaddock(['-w', '1', DEMO])
    const [first] = await waitForWorkers(p, 1)
    // Each delivered signal counts. (Two sent within microseconds can be merged by the
    // kernel before delivery: a pending standard signal is not queued twice. `paddock ctl
    // add N` is the exact way.)
    process.kill(p.pid, 'SIGTTIN')
    await sleep(150)
    process.kill(p.pid, 'SIGTTIN')
    const three = await waitForWorkers(p, 3)
    expect(three).toContain(first)
    process.kill(p.pid, 'SIGTTOU')
    await waitForWorkers(p, 2)
    await p.waitFor(/Worker exiting \(pid: \d+\): TTOU/)
    // never below one
    for (let i = 0; i < 3; i++) {
      process.kill(p.pid, 'SIGTTOU')
      await sleep(150)
    }
    await waitForWorkers(p, 1)
    await sleep(800)
    expect(childPids(p.pid)).toHaveLength(1)
  })

  it('HUP replaces every worker with a new generation and loses no request under load', async () => {
    const p = await startPaddock(['-w', '2', DEMO])
    const before = await waitForWorkers(p, 2)
    const load = steadyLoad(p.port, '/io?ms=20', 8)
    await sleep(500)
    process.kill(p.pid, 'SIGHUP')
    await p.waitFor(/Reload 1 done/)
    await sleep(300)
    const result = await load.stop()
    const after = childPids(p.pid)
    expect(after).toHaveLength(2)
    for (const pid of before) expect(after).not.toContain(pid)
    expect((await whoami(p.port)).generation).toBe(2)
    expect(result.failed, result.errors.slice(0, 3).join('; ')).toBe(0)
    expect(result.ok).toBeGreaterThan(20)
  })

  it('TERM lets an in-flight request finish, then exits 0', async () => {
    const p = await startPaddock(['-w', '1', DEMO])
    await waitForWorkers(p, 1)
    // the worker answers: it is ready (a TERM while it boots stops it before it accepts)
    expect((await get(p.port, '/')).status).toBe(200)
    const slow = get(p.port, '/io?ms=800')
    await sleep(200)
    process.kill(p.pid, 'SIGTERM')
    const r = await slow
    expect(r.status).toBe(200)
    expect(r.body).toBe('io 800ms\n')
    const { code } = await p.exited
    expect(code).toBe(0)
  })

  it('WINCH stops every worker and keeps the master; TTIN brings one back', async () => {
    const p = await startPaddock(['-w', '2', DEMO])
    await waitForWorkers(p, 2)
    process.kill(p.pid, 'SIGWINCH')
    await waitForWorkers(p, 0)
    expect(alive(p.pid)).toBe(true)
    process.kill(p.pid, 'SIGTTIN')
    await waitForWorkers(p, 1)
    expect((await get(p.port, '/')).status).toBe(200)
  })

  it('a worker killed from outside is respawned', async () => {
    const p = await startPaddock(['-w', '2', DEMO])
    const [victim] = await waitForWorkers(p, 2)
    process.kill(victim, 'SIGKILL')
    await p.waitFor(new RegExp(`Worker \\(pid: ${victim}\\) exited unexpectedly`))
    const now = await waitForWorkers(p, 2)
    expect(now).not.toContain(victim)
  })

  it('when the master is SIGKILLed every worker exits within 2 s and the port is free', async () => {
    const p = await startPaddock(['-w', '2', DEMO])
    const workers = await waitForWorkers(p, 2)
    process.kill(p.pid, 'SIGKILL')
    await p.exited
    // 2 s is the promise; it usually takes a few ms.
    const deadline = Date.now() + 2000
    while (workers.some(alive) && Date.now() < deadline) await sleep(50)
    expect(workers.filter(alive)).toEqual([])
    const again = http.createServer()
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject)
      again.listen(p.port, '127.0.0.1', () => resolve())
    })
    again.close()
  })
})
