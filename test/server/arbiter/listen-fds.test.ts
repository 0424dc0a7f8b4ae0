import { afterEach, describe, expect, it } from 'vitest'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI, DEMO, ROOT, alive, childPids, get, sleep, stopAll, trackProcess } from '../../helpers/proc.js'

afterEach(stopAll)

interface Run {
  child: ChildProcess
  output: () => string
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>
}

function track(child: ChildProcess): Run {
  trackProcess(child)
  let out = ''
  child.stdout?.on('data', (d) => (out += d))
  child.stderr?.on('data', (d) => (out += d))
  const waitFor = async (re: RegExp, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const m = out.match(re)
      if (m) return m
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited before ${re}:\n${out}`)
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}:\n${out}`)
      await sleep(50)
    }
  }
  return { child, output: () => out, waitFor }
}

/** A listening socket bound here, as systemd's .socket unit would have it. */
async function holdSocket(): Promise<{ server: net.Server; port: number; fd: number }> {
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return { server, port: (server.address() as net.AddressInfo).port, fd: (server as unknown as { _handle: { fd: number } })._handle.fd }
}

/** Launched as systemd does it: the socket as fd 3, and LISTEN_PID naming the process that runs paddock (`exec` keeps the shell's pid). */
function activated(sock: { fd: number }, args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn('sh', ['-c', 'LISTEN_PID=$$ exec "$0" "$@"', process.execPath, CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, LISTEN_FDS: '1', LISTEN_FDNAMES: 'paddock.socket', ...env },
    stdio: ['ignore', 'pipe', 'pipe', sock.fd],
  })
  return track(child)
}

function environ(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
}

async function workers(pid: number, n: number): Promise<number[]> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const kids = childPids(pid)
    if (kids.length === n) {
      await sleep(300)
      if (JSON.stringify(childPids(pid)) === JSON.stringify(kids)) return kids
    }
    if (Date.now() > deadline) throw new Error(`expected ${n} workers under ${pid}, have ${kids.length}`)
    await sleep(100)
  }
}

async function whoami(port: number): Promise<number> {
  return (JSON.parse((await get(port, '/whoami')).body) as { pid: number }).pid
}

const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0

describe('systemd socket activation', () => {
  it('LISTEN_FDS=1 with LISTEN_PID = the master: serves on fd 3 instead of the bind, and workers never see the variables', async () => {
    const sock = await holdSocket()
    const run = activated(sock, ['-b', '127.0.0.1:0', '--no-control-socket', '-w', '2', DEMO])
    // paddock has its own copy of the socket now; ours must not take connections.
    sock.server.close()
    const master = run.child.pid!
    await run.waitFor(/Booting worker/)
    const ws = await workers(master, 2)
    expect(run.output()).toMatch(new RegExp(`\\[${master}\\] \\[INFO\\] Using 1 listening socket from systemd \\(LISTEN_FDS\\); bind 127\\.0\\.0\\.1:0 is not used`))
    const listening = [...run.output().matchAll(/Listening at: (\S+)/g)].map((m) => m[1])
    expect(listening).toEqual([`http://127.0.0.1:${sock.port}`])

    const seen = new Set<number>()
    for (let i = 0; i < 20; i++) seen.add(await whoami(sock.port))
    expect(seen.has(master)).toBe(false)
    for (const pid of seen) expect(ws).toContain(pid)
    for (const w of ws) {
      const env = environ(w)
      expect(env.filter((kv) => /^(LISTEN_FDS|LISTEN_PID|LISTEN_FDNAMES|NOTIFY_SOCKET)=/.test(kv))).toEqual([])
    }
  })

  it('LISTEN_FDS for another pid is ignored with a warning: the configured bind is used', async () => {
    const sock = await holdSocket()
    const child = spawn(process.execPath, [CLI, '-b', '127.0.0.1:0', '--no-control-socket', '-w', '1', DEMO], {
      cwd: ROOT,
      env: { ...process.env, LISTEN_FDS: '1', LISTEN_PID: '1' },
      stdio: ['ignore', 'pipe', 'pipe', sock.fd],
    })
    const run = track(child)
    try {
      const [, port] = await run.waitFor(/Listening at: http:\/\/127\.0\.0\.1:(\d+)/)
      expect(Number(port)).not.toBe(sock.port)
      await run.waitFor(new RegExp(`\\[WARNING\\] LISTEN_FDS=1 ignored: LISTEN_PID=1 is not this process \\(${child.pid}\\)`))
      const [w] = await workers(child.pid!, 1)
      expect(await whoami(Number(port))).toBe(w)
      expect(environ(w).filter((kv) => kv.startsWith('LISTEN_'))).toEqual([])
    } finally {
      sock.server.close()
    }
  })

  it.skipIf(!has('systemd-notify', ['--version']) || !has('python3', ['--version']))('sends READY=1 with MAINPID to NOTIFY_SOCKET once a worker is ready', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-notify-'))
    const notify = join(dir, 'notify.sock')
    // Node has no Unix datagram sockets: a few lines of Python play systemd's side.
    const receiver = spawn('python3', ['-u', '-c', 'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("bound")\nwhile True: print(repr(s.recv(4096).decode()))', notify], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const got = track(receiver)
    await got.waitFor(/bound/)
    const sock = await holdSocket()
    const run = activated(sock, ['--no-control-socket', '-w', '1', DEMO], { NOTIFY_SOCKET: notify })
    sock.server.close()
    const master = run.child.pid!
    await got.waitFor(/READY=1/)
    expect(got.output()).toContain(`MAINPID=${master}`)
    const [w] = await workers(master, 1)
    expect(await whoami(sock.port)).toBe(w)
    expect(environ(w).filter((kv) => kv.startsWith('NOTIFY_SOCKET='))).toEqual([])
    expect(run.output()).not.toMatch(/could not send READY=1/)
    expect(alive(master)).toBe(true)
  })
})
