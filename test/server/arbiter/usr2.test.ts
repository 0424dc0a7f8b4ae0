import { afterEach, describe, expect, it } from 'vitest'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEMO, alive, childPids, controlSocketPath, get, killTree, runCli, sleep, startPaddock, steadyLoad, stopAll, type Paddock } from '../../helpers/proc.js'

/**
 * A master started by USR2 is a child of the old master, not of the test: the helper does
 * not track it (nor its workers), so every one is recorded here and killed by pid.
 */
const newMasters = new Set<number>()

afterEach(async () => {
  for (const pid of newMasters) killTree(pid)
  newMasters.clear()
  await stopAll()
})

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'paddock-usr2-'))
}

async function whoami(port: number): Promise<number> {
  return (JSON.parse((await get(port, '/whoami')).body) as { pid: number }).pid
}

/** USR2 and wait for the new master to say it is ready; returns its pid. */
async function usr2(p: Paddock, nth = 1): Promise<number> {
  process.kill(p.pid, 'SIGUSR2')
  const starts = () => [...p.output().matchAll(/Starting a new master \(pid (\d+)\)/g)]
  const deadline = Date.now() + 15_000
  while (starts().length < nth && Date.now() < deadline) await sleep(50)
  const m = starts()[nth - 1]
  if (!m) throw new Error(`no new master started:\n${p.output()}`)
  const pid = Number(m[1])
  newMasters.add(pid)
  await p.waitFor(new RegExp(`New master \\(pid ${pid}\\) is ready`), 30_000)
  return pid
}

/** Like p.waitFor, but also once the old master has exited: the new master's log still reaches its pipe. */
async function waitInOutput(p: Paddock, re: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const m = p.output().match(re)
    if (m) return m
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}:\n${p.output()}`)
    await sleep(50)
  }
}

/** Children of `pid` that are workers (the old master also has the new master as a child). */
function workersOf(pid: number, except: number[] = []): number[] {
  return childPids(pid).filter((k) => !except.includes(k))
}

/**
 * Wait for `n` workers under `pid`, the same set twice 300 ms apart: right after
 * `Listening at` the short-lived binder child is still there and would pass for one.
 */
async function waitForChildren(pid: number, n: number, except: number[] = [], timeoutMs = 20_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const kids = workersOf(pid, except)
    if (kids.length === n) {
      await sleep(300)
      const again = workersOf(pid, except)
      if (JSON.stringify(again) === JSON.stringify(kids)) return kids
    }
    if (Date.now() > deadline) throw new Error(`expected ${n} workers under ${pid}, have ${kids.length}`)
    await sleep(100)
  }
}

/** `paddock ctl status` of the server `where` names (['--name', NAME] or ['--socket', PATH]). */
async function ctlStatus(where: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await runCli(['ctl', ...where, 'status'], { env })
  return r.stdout + r.stderr
}

async function waitForCtl(where: string[], re: RegExp, env?: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const out = await ctlStatus(where, env)
    if (re.test(out)) return out
    if (Date.now() > deadline) throw new Error(`ctl status never matched ${re}; last: ${out}`)
    await sleep(200)
  }
}

describe('USR2: a new master on the same sockets', () => {
  it('starts a second master whose workers serve the same port; TERM to the old one under load fails no request', async () => {
    const dir = tmp()
    const pidfile = join(dir, 'paddock.pid')
    const env = { XDG_RUNTIME_DIR: dir }
    // A named control socket at the default path: the one place where two masters could collide.
    const p = await startPaddock(['-b', '127.0.0.1:0', '-w', '2', '-n', 'usr2-main', '-p', pidfile, DEMO], { bind: false, env })
    const oldWorkers = await waitForChildren(p.pid, 2)
    await waitForCtl(['--name', 'usr2-main'], new RegExp(`pid ${p.pid}: running`), env)

    const newPid = await usr2(p)
    expect(childPids(p.pid)).toContain(newPid)
    const newWorkers = await waitForChildren(newPid, 2)
    expect(readFileSync(pidfile, 'utf8').trim()).toBe(String(newPid))
    expect(readFileSync(`${pidfile}.oldbin`, 'utf8').trim()).toBe(String(p.pid))

    // Sync workers do not accept while busy: 8 slow requests at once (an event after 150 ms,
    // with the pid of the worker that sends it) spread over all 4 workers, so both
    // masters' workers answer on the one port.
    const seen = new Map<number, number>()
    for (let round = 0; round < 5; round++) {
      const pids = await Promise.all(Array.from({ length: 8 }, () => get(p.port, '/sse?n=1&ms=150').then((r) => Number(/"pid":(\d+)/.exec(r.body)?.[1]))))
      for (const pid of pids) seen.set(pid, (seen.get(pid) ?? 0) + 1)
      if (newWorkers.some((w) => seen.has(w)) && oldWorkers.some((w) => seen.has(w))) break
    }
    const byNew = newWorkers.reduce((a, w) => a + (seen.get(w) ?? 0), 0)
    const byOld = oldWorkers.reduce((a, w) => a + (seen.get(w) ?? 0), 0)
    expect(byNew, JSON.stringify([...seen])).toBeGreaterThan(0)
    expect(byOld, JSON.stringify([...seen])).toBeGreaterThan(0)
    for (const pid of seen.keys()) expect([...oldWorkers, ...newWorkers]).toContain(pid)

    // While the old master lives it keeps its control socket: the new one waits.
    expect(await ctlStatus(['--name', 'usr2-main'], env)).toMatch(new RegExp(`pid ${p.pid}: running`))

    const load = steadyLoad(p.port, '/io?ms=20', 4)
    await sleep(600)
    const okBeforeTerm = load.result.ok
    process.kill(p.pid, 'SIGTERM')
    const { code } = await p.exited
    expect(code).toBe(0)
    const okAtExit = load.result.ok
    await sleep(800)
    const result = await load.stop()
    expect(result.failed, result.errors.slice(0, 3).join('; ')).toBe(0)
    expect(okBeforeTerm).toBeGreaterThan(5)
    // requests kept being answered after the old master was gone
    expect(result.ok - okAtExit).toBeGreaterThan(5)

    expect(alive(newPid)).toBe(true)
    expect(oldWorkers.filter(alive)).toEqual([])
    for (let i = 0; i < 10; i++) expect(newWorkers).toContain(await whoami(p.port))
    expect(readFileSync(pidfile, 'utf8').trim()).toBe(String(newPid))
    expect(existsSync(`${pidfile}.oldbin`)).toBe(false)
    // ... and the control socket is the new master's now, with no crash on the way.
    await waitForCtl(['--name', 'usr2-main'], new RegExp(`pid ${newPid}: running`), env)
    await waitInOutput(p, new RegExp(`\\[${newPid}\\] \\[INFO\\] The old master \\(pid ${p.pid}\\) has exited: starting the control plane`))
    expect(p.output()).not.toMatch(/control plane failed|EADDRINUSE/)
    expect(alive(newPid)).toBe(true)
  })

  it('refuses a second USR2 while a new master runs, and USR2 to the new one while the old one runs; WINCH then TERM hands over', async () => {
    const p = await startPaddock(['-w', '1', DEMO])
    await waitForChildren(p.pid, 1)
    const newPid = await usr2(p)
    const [newWorker] = await waitForChildren(newPid, 1)

    process.kill(p.pid, 'SIGUSR2')
    await p.waitFor(new RegExp(`\\[${p.pid}\\] \\[WARNING\\] USR2 ignored: a new master \\(pid ${newPid}\\) is already running`))
    process.kill(newPid, 'SIGUSR2')
    await p.waitFor(new RegExp(`\\[${newPid}\\] \\[WARNING\\] USR2 ignored: this master was started by USR2 and the old master \\(pid ${p.pid}\\) still runs`))
    await sleep(500)
    // still exactly two masters: the old one's children are its worker and the new master
    expect(workersOf(p.pid, [newPid])).toHaveLength(1)
    expect(childPids(newPid)).toEqual([newWorker])
    expect([...p.output().matchAll(/Starting a new master/g)]).toHaveLength(1)

    // WINCH: the old master's workers go, the new master's serve everything.
    process.kill(p.pid, 'SIGWINCH')
    await waitForChildren(p.pid, 0, [newPid])
    for (let i = 0; i < 10; i++) expect(await whoami(p.port)).toBe(newWorker)
    process.kill(p.pid, 'SIGTERM')
    expect((await p.exited).code).toBe(0)
    expect(alive(newPid)).toBe(true)
    expect(await whoami(p.port)).toBe(newWorker)

    // With the old master gone the new one is a master like any other: USR2 works again.
    process.kill(newPid, 'SIGUSR2')
    const [, third] = await waitInOutput(p, new RegExp(`\\[${newPid}\\] \\[INFO\\] Starting a new master \\(pid (\\d+)\\)`))
    newMasters.add(Number(third))
    await waitInOutput(p, new RegExp(`New master \\(pid ${third}\\) is ready`))
    const [thirdWorker] = await waitForChildren(Number(third), 1)
    const pids = new Set<number>()
    for (let i = 0; i < 20; i++) pids.add(await whoami(p.port))
    for (const pid of pids) expect([newWorker, thirdWorker]).toContain(pid)
  })

  it('a new master that fails to start is logged with its reason; the old one keeps serving and its pidfile, and a later USR2 works', async () => {
    const dir = tmp()
    const pidfile = join(dir, 'paddock.pid')
    const config = join(dir, 'paddock.config.mjs')
    writeFileSync(config, 'export default { workers: 1 }\n')
    const p = await startPaddock(['-c', config, '-p', pidfile, DEMO])
    const [worker] = await waitForChildren(p.pid, 1)

    writeFileSync(config, 'export default { wokers: 1 }\n')
    process.kill(p.pid, 'SIGUSR2')
    const [, failedPid] = await p.waitFor(/Starting a new master \(pid (\d+)\)/)
    newMasters.add(Number(failedPid))
    await p.waitFor(new RegExp(`\\[${p.pid}\\] \\[ERROR\\] New master \\(pid ${failedPid}\\) failed to start: .*wokers.*; this master keeps serving`))
    expect(alive(Number(failedPid))).toBe(false)
    expect(readFileSync(pidfile, 'utf8').trim()).toBe(String(p.pid))
    expect(existsSync(`${pidfile}.oldbin`)).toBe(false)
    expect(await whoami(p.port)).toBe(worker)

    // The failure left no state behind: with the config fixed, USR2 works.
    writeFileSync(config, 'export default { workers: 1 }\n')
    const newPid = await usr2(p, 2)
    await waitForChildren(newPid, 1)
    expect(readFileSync(pidfile, 'utf8').trim()).toBe(String(newPid))
    expect(readFileSync(`${pidfile}.oldbin`, 'utf8').trim()).toBe(String(p.pid))

    // TERM to the new master goes back: the old one owns the pidfile again.
    process.kill(newPid, 'SIGTERM')
    await p.waitFor(new RegExp(`New master \\(pid ${newPid}\\) exited with code 0; this master \\(pid ${p.pid}\\) serves alone again`))
    expect(readFileSync(pidfile, 'utf8').trim()).toBe(String(p.pid))
    expect(existsSync(`${pidfile}.oldbin`)).toBe(false)
    expect(await whoami(p.port)).toBe(worker)
  })

  it('the whole upgrade over paddock ctl: reexec answers once the new master is ready, stop-workers then stop hand over; refusals are one line', async () => {
    const sock = controlSocketPath()
    const p = await startPaddock(['-b', '127.0.0.1:0', '-w', '1', '--control-socket', sock, DEMO], { bind: false })
    const [oldWorker] = await waitForChildren(p.pid, 1)
    await waitForCtl(['--socket', sock], /running/)
    const ctl = (...args: string[]) => runCli(['ctl', '--socket', sock, ...args], { timeoutMs: 70_000 })

    const up = await ctl('reexec')
    expect(up.code, up.stderr).toBe(0)
    const newPid = Number(/new master \(pid (\d+)\) is ready/.exec(up.stdout)?.[1])
    newMasters.add(newPid)
    expect(childPids(p.pid)).toContain(newPid)
    // it answered after the new master said it was ready, not before
    expect(p.output()).toMatch(new RegExp(`New master \\(pid ${newPid}\\) is ready`))
    const [newWorker] = await waitForChildren(newPid, 1)

    // a second one is refused with the reason, on one line, non-zero; nothing else starts
    const again = await ctl('reexec')
    expect(again.code).not.toBe(0)
    expect(again.stderr.trim()).toMatch(new RegExp(`^paddock ctl: a new master \\(pid ${newPid}\\) is already running.*\\(PADDOCK_ERR_STATE\\)$`))
    expect([...p.output().matchAll(/Starting a new master/g)]).toHaveLength(1)

    // WINCH over ctl: the old master keeps its sockets, its worker goes, the new one serves
    const winch = await ctl('stop-workers')
    expect(winch.code, winch.stderr).toBe(0)
    await waitForChildren(p.pid, 0, [newPid])
    expect(alive(oldWorker!)).toBe(false)
    for (let i = 0; i < 10; i++) expect(await whoami(p.port)).toBe(newWorker)
    const status = await ctl('status')
    expect(status.stdout).toMatch(new RegExp(`pid ${p.pid}: running`))
    expect(status.stdout).toMatch(new RegExp(`new master ${newPid} serves beside this one`))
    expect(status.stdout).toMatch(/workers 0\/0/)

    // A stop over the socket (not a signal) used to wait forever for the new master's channel.
    const stop = await ctl('stop')
    expect(stop.code, stop.stderr).toBe(0)
    expect((await p.exited).code).toBe(0)
    expect(alive(newPid)).toBe(true)
    expect(await whoami(p.port)).toBe(newWorker)
    // and the new master takes the control socket over
    await waitForCtl(['--socket', sock], new RegExp(`pid ${newPid}: running`))
  })

  it('reexec --cancel goes back: after WINCH this master starts its workers again before the new one stops, and no request fails', async () => {
    const sock = controlSocketPath()
    const p = await startPaddock(['-b', '127.0.0.1:0', '-w', '2', '--control-socket', sock, DEMO], { bind: false })
    await waitForChildren(p.pid, 2)
    // the control socket opens once the master runs: on a loaded machine after the forks
    await waitForCtl(['--socket', sock], /running/)
    const ctl = (...args: string[]) => runCli(['ctl', '--socket', sock, ...args], { timeoutMs: 70_000 })
    const nothing = await ctl('reexec', '--cancel')
    expect(nothing.code).not.toBe(0)
    expect(nothing.stderr).toMatch(/no new master is running/)

    const load = steadyLoad(p.port, '/io?ms=20', 4)
    const up = await ctl('reexec')
    expect(up.code, up.stderr).toBe(0)
    const newPid = Number(/new master \(pid (\d+)\) is ready/.exec(up.stdout)?.[1])
    newMasters.add(newPid)
    await waitForChildren(newPid, 2)
    expect((await ctl('stop-workers')).code).toBe(0)
    await waitForChildren(p.pid, 0, [newPid])
    await sleep(300)

    const back = await ctl('reexec', '--cancel')
    expect(back.code, back.stderr).toBe(0)
    expect(back.stdout).toMatch(new RegExp(`the new master \\(pid ${newPid}\\) has stopped; this master serves alone again`))
    expect(alive(newPid)).toBe(false)
    const mine = await waitForChildren(p.pid, 2)
    await sleep(300)
    const result = await load.stop()
    expect(result.failed, result.errors.slice(0, 3).join('; ')).toBe(0)
    expect(result.ok).toBeGreaterThan(20)
    for (let i = 0; i < 10; i++) expect(mine).toContain(await whoami(p.port))
    expect((await ctl('status')).stdout).not.toMatch(/new master/)
  })
})
