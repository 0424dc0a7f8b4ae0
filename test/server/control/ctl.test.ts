import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DEMO, get, runCli, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'

const dirs: string[] = []
afterEach(async () => {
  await stopAll()
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-ctl-'))
  dirs.push(d)
  return d
}

describe('paddock ctl against a real arbiter', () => {
  it('lists workers, scales, and reports command errors on one line', async () => {
    const sock = path.join(tmp(), 'p.sock')
    const p = await startPaddock(['-b', '127.0.0.1:0', '-w', '2', '--control-socket', sock, DEMO], { bind: false })
    const pids = await waitForWorkers(p, 2)
    const deadline = Date.now() + 10_000
    while (!fs.existsSync(sock) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(fs.statSync(sock).mode & 0o777).toBe(0o600)

    const w = await runCli(['ctl', '--socket', sock, 'workers', '--json'])
    expect(w.code).toBe(0)
    const listed = (JSON.parse(w.stdout) as { pid: number }[]).map((x) => x.pid)
    for (const pid of pids) expect(listed).toContain(pid)

    // the address actually bound, not the bind as written (port 0)
    const status = await runCli(['ctl', '--socket', sock, 'status'])
    expect(status.stdout).toMatch(new RegExp(`listening: 127\\.0\\.0\\.1:${p.port} \\(queue \\d+\\)`))

    const add = await runCli(['ctl', '--socket', sock, 'add', '1'])
    expect(add.code).toBe(0)
    expect(add.stdout).toMatch(/target workers: 3/)
    await waitForWorkers(p, 3)

    const kill = await runCli(['ctl', '--socket', sock, 'kill', '1'])
    expect(kill.code).not.toBe(0)
    expect(kill.stderr.trim().split('\n')).toHaveLength(1)
    expect(kill.stderr).toMatch(/PADDOCK_ERR_NO_SUCH_WORKER/)

    // the worker class names come from one list, on both sides of the socket
    const noName = await runCli(['ctl', '--socket', sock, 'class'])
    expect(noName.code).toBe(2)
    expect(noName.stderr.split('\n')[0]).toBe('paddock ctl: class needs a NAME (sync, gthread, async, native)')
    const badName = await runCli(['ctl', '--socket', sock, 'class', 'threads'])
    expect(badName.code).not.toBe(0)
    expect(badName.stderr.trim()).toMatch(/^paddock ctl: workerClass must be one of sync, gthread, async, native, gevent, eventlet.*PADDOCK_ERR_BAD_COMMAND/)
  })

  it('scale beyond --max-workers is refused with the reason; export prints the kept history as CSV and events as JSON', async () => {
    const sock = path.join(tmp(), 'p.sock')
    const p = await startPaddock(['-b', '127.0.0.1:0', '-w', '1', '--max-workers', '2', '--control-socket', sock, DEMO], { bind: false })
    await waitForWorkers(p, 1)
    const deadline = Date.now() + 10_000
    while (!fs.existsSync(sock) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    const scale = await runCli(['ctl', '--socket', sock, 'scale', '500'])
    expect(scale.code).toBe(1)
    expect(scale.stderr).toMatch(/500 workers is above max_workers \(2.*PADDOCK_ERR_INVALID_VALUE/)
    await new Promise((r) => setTimeout(r, 600))
    const csv = await runCli(['ctl', '--socket', sock, 'export', 'history', '--csv'])
    expect(csv.code).toBe(0)
    const lines = csv.stdout.trim().split('\r\n')
    expect(lines[0]).toBe('time,t_ms,requests_per_sec,p50_ms,p99_ms,in_flight,queued_in_workers,listen_queue,workers')
    expect(lines.length).toBeGreaterThan(1)
    expect(lines.at(-1)!.split(',').at(-1)).toBe('1')
    const events = await runCli(['ctl', '--socket', sock, 'export', 'events'])
    expect(Array.isArray(JSON.parse(events.stdout))).toBe(true)
    expect((await runCli(['ctl', '--socket', sock, 'export', 'nothing'])).code).toBe(2)
  })

  it('reopen-logs reopens the log files (USR1): after a rotation, access lines go to the new file', async () => {
    const dir = tmp()
    const sock = path.join(dir, 'p.sock')
    const log = path.join(dir, 'access.log')
    const p = await startPaddock(['-b', '127.0.0.1:0', '-w', '1', '--control-socket', sock, '--access-logfile', log, DEMO], { bind: false })
    await waitForWorkers(p, 1)
    await get(p.port, '/?before')
    const lines = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '')
    const until = async (ok: () => boolean) => {
      const deadline = Date.now() + 5000
      while (!ok() && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50))
    }
    await until(() => lines(log).includes('/?before'))
    fs.renameSync(log, `${log}.1`)
    const r = await runCli(['ctl', '--socket', sock, 'reopen-logs'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/log files reopened/)
    await p.waitFor(/Reopened log files/)
    // the worker reopens on the master's message: retry until a request lands in the new file
    for (let i = 0; i < 50 && !lines(log).includes('/?after'); i++) {
      await get(p.port, '/?after')
      await until(() => lines(log).includes('/?after') || lines(`${log}.1`).split('/?after').length > i + 1)
    }
    expect(lines(log)).toMatch(/\/\?after/)
    expect(lines(`${log}.1`)).toMatch(/\/\?before/)
  })

  it('fails with one line when there is no such socket', async () => {
    const r = await runCli(['ctl', '--socket', path.join(tmp(), 'none.sock'), 'status'])
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/cannot connect/)
  })
})
