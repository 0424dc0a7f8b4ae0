import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { alive, DEMO, runCli, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'
import { isSocketAlive, liveControlSockets } from '../../../src/server/control/live-sockets.js'

const dirs: string[] = []
afterEach(async () => {
  await stopAll()
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-ctlargs-'))
  dirs.push(d)
  return d
}

/** A `.sock` file left by a process killed with -9, as a crashed master leaves its control socket. */
async function staleSocket(file: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(file)}, () => process.kill(process.pid, 'SIGKILL'))`])
  await new Promise((r) => child.once('exit', r))
  expect(fs.existsSync(file)).toBe(true)
}

async function waitForFile(file: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; !fs.existsSync(file) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50))
}

describe('is a control socket alive', () => {
  it('a listening socket is alive; a file left by a killed process and a missing path are not', async () => {
    const dir = tmp()
    const live = path.join(dir, 'live.sock')
    const server = net.createServer((s) => s.end())
    await new Promise<void>((r) => server.listen(live, r))
    try {
      await staleSocket(path.join(dir, 'dead.sock'))
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a socket')
      expect(await isSocketAlive(live)).toBe(true)
      expect(await isSocketAlive(path.join(dir, 'dead.sock'))).toBe(false)
      expect(await isSocketAlive(path.join(dir, 'missing.sock'))).toBe(false)
      expect(await liveControlSockets(dir)).toEqual([live])
      expect(await liveControlSockets(path.join(dir, 'no-such-dir'))).toEqual([])
    } finally {
      await new Promise((r) => server.close(r))
    }
  })
})

describe('paddock ctl command line', () => {
  it('an unknown flag is a usage error (exit 2 and the usage) and does nothing: stop --quik does not stop', async () => {
    const sock = path.join(tmp(), 'p.sock')
    const p = await startPaddock(['-b', '127.0.0.1:0', '--control-socket', sock, DEMO], { bind: false })
    await waitForWorkers(p, 1)
    await waitForFile(sock)
    const r = await runCli(['ctl', '--socket', sock, 'stop', '--quik'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^paddock ctl: unrecognized option '--quik'/)
    expect(r.stderr).toMatch(/usage: paddock ctl/)
    // a flag that exists but does not belong to the command is refused too
    const misplaced = await runCli(['ctl', '--socket', sock, 'reload', '--quick'])
    expect(misplaced.code).toBe(2)
    expect(misplaced.stderr).toMatch(/"reload" takes no --quick/)
    await new Promise((r) => setTimeout(r, 500))
    expect(alive(p.pid)).toBe(true)
    const status = await runCli(['ctl', '--control-socket', sock, 'status'])
    expect(status.code).toBe(0)
    expect(status.stdout).toMatch(new RegExp(`pid ${p.pid}: running`))
  })

  it('usage errors exit 2, unreachable servers exit 1', async () => {
    const dir = tmp()
    for (const args of [[], ['frobnicate'], ['scale', 'many'], ['config', 'set', 'workers'], ['class']]) {
      const r = await runCli(['ctl', '--socket', path.join(dir, 'none.sock'), ...args])
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr).toMatch(/usage: paddock ctl/)
    }
    const help = await runCli(['ctl', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/--control-socket PATH/)
    const gone = await runCli(['ctl', '--socket', path.join(dir, 'none.sock'), 'status'])
    expect(gone.code).toBe(1)
    expect(gone.stderr).toMatch(/no such socket/)
  })

  it('without --socket, the sockets of dead masters are skipped', async () => {
    const runtime = tmp()
    const sockDir = path.join(runtime, 'paddock')
    fs.mkdirSync(sockDir, { mode: 0o700 })
    await staleSocket(path.join(sockDir, '11111.sock'))
    await staleSocket(path.join(sockDir, '22222.sock'))
    const env = { XDG_RUNTIME_DIR: runtime }
    const none = await runCli(['ctl', 'status'], { env })
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/no running paddock found .*\(2 stale sockets of stopped servers\)/)

    const p = await startPaddock(['-b', '127.0.0.1:0', '--name', 'live', DEMO], { bind: false, env })
    await waitForWorkers(p, 1)
    await waitForFile(path.join(sockDir, 'live.sock'))
    const status = await runCli(['ctl', 'status'], { env })
    expect(status.stderr).toBe('')
    expect(status.code).toBe(0)
    expect(status.stdout).toMatch(new RegExp(`pid ${p.pid}: running`))
  })
})

describe('paddock dashboard --help', () => {
  it('prints the usage and exits without starting a server', async () => {
    const r = await runCli(['dashboard', '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^usage: paddock dashboard/)
    expect(r.stdout + r.stderr).not.toMatch(/Listening at/)
    const bad = await runCli(['dashboard', '--no-such-flag'])
    expect(bad.code).toBe(2)
  })
})
