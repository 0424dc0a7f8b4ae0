/**
 * Starting paddock as a real process for tests. Every process started here is tracked
 * and stopped by pid in `stopAll()` (call it from afterEach), also when a test failed.
 * Servers bind 127.0.0.1:0; the port is read from the `Listening at:` log line.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import http from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const CLI = join(ROOT, 'bin/paddock.mjs')
export const DEMO = join(ROOT, 'resources/demo/app.mjs')
export const FIXTURES = join(ROOT, 'test/fixtures')

const started = new Set<ChildProcess>()

export interface Paddock {
  child: ChildProcess
  pid: number
  port: number
  output: () => string
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    started.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d) => (stdout += d))
    child.stderr!.on('data', (d) => (stderr += d))
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000)
    child.on('exit', (code) => {
      clearTimeout(t)
      started.delete(child)
      resolve({ code, stdout, stderr })
    })
  })
}

export async function startPaddock(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; bind?: boolean; ready?: RegExp; nodeArgs?: string[] } = {}): Promise<Paddock> {
  const full = opts.bind === false ? args : ['-b', '127.0.0.1:0', '--no-control-socket', ...args]
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI, ...full], { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  started.add(child)
  let out = ''
  const waiters: (() => void)[] = []
  const onData = (d: Buffer) => {
    out += d
    for (const w of waiters.splice(0)) w()
  }
  child.stdout!.on('data', onData)
  child.stderr!.on('data', onData)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      started.delete(child)
      for (const w of waiters.splice(0)) w()
      resolve({ code, signal })
    }),
  )
  const waitFor = (re: RegExp, timeoutMs = 15_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const deadline = Date.now() + timeoutMs
      const check = () => {
        const m = out.match(re)
        if (m) return resolve(m)
        if (child.exitCode !== null || child.signalCode !== null) return reject(new Error(`paddock exited before ${re}:\n${out}`))
        if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${re}:\n${out}`))
        waiters.push(check)
        setTimeout(check, 100)
      }
      check()
    })
  // a process that serves no app (`dashboard --attach`) says it is up with another line
  const m = opts.ready ? await waitFor(opts.ready) : await waitFor(/Listening at: https?:\/\/[^\s]+:(\d+)/)
  const p: Paddock = { child, pid: child.pid!, port: opts.ready ? 0 : Number(m[1]), output: () => out, waitFor, exited }
  return p
}

/** Wait until the server has `n` ready workers (by their log lines and the OS). */
export async function waitForWorkers(p: Paddock, n: number, timeoutMs = 15_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const kids = childPids(p.pid)
    if (kids.length === n) {
      // every child answers: give booting ones time to listen
      await sleep(300)
      if (childPids(p.pid).length === n) return childPids(p.pid)
    }
    if (Date.now() > deadline) throw new Error(`expected ${n} workers, have ${kids.length}:\n${p.output()}`)
    await sleep(100)
  }
}

export function childPids(pid: number): number[] {
  const out: number[] = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(fields[1]) === pid && fields[0] !== 'Z') out.push(Number(d))
    } catch {
      // raced with an exit
    }
  }
  return out.sort((a, b) => a - b)
}

/**
 * SIGKILL `pid` and its children, by pid: for processes this helper did not start (a master
 * started by USR2 is the old master's child, not the test's), so stopAll() does not know them.
 */
export function killTree(pid: number): void {
  for (const k of [pid, ...childPids(pid)]) {
    try {
      process.kill(k, 'SIGKILL')
    } catch {
      // gone already
    }
  }
}

export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

/** Have `stopAll()` stop a process started elsewhere (and its children), as those started here. */
export function trackProcess(child: ChildProcess): void {
  started.add(child)
  child.once('exit', () => started.delete(child))
}

export async function stopAll(): Promise<void> {
  for (const child of [...started]) {
    const kids = child.pid ? childPids(child.pid) : []
    try {
      child.kill('SIGKILL')
    } catch {}
    for (const k of kids) {
      try {
        process.kill(k, 'SIGKILL')
      } catch {}
    }
  }
  started.clear()
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * A worker that holds work right now (requests in flight, else open connections), asked
 * over the control socket: a burst of connections can land on one worker alone (the first
 * to wake accepts all that wait), so "the first worker" may have none.
 */
export async function busyWorker(socket: string, timeoutMs = 5000): Promise<number> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(100)) {
    const r = await runCli(['ctl', '--socket', socket, 'workers', '--json'])
    if (r.code !== 0) continue
    const live = (JSON.parse(r.stdout) as { pid: number; state: string; inFlight: number; connections: number }[]).filter((w) => w.state === 'ready')
    const busy = live.find((w) => w.inFlight > 0) ?? live.find((w) => w.connections > 0)
    if (busy) return busy.pid
  }
  throw new Error(`no worker reported work within ${timeoutMs} ms`)
}

/** A fresh path for a control socket. */
export function controlSocketPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'paddock-test-')), 'ctl.sock')
}

export interface Reply {
  status: number
  statusMessage?: string
  headers: http.IncomingHttpHeaders
  rawHeaders: string[]
  body: string
}

export function get(port: number, path: string, opts: { agent?: http.Agent | false; headers?: Record<string, string>; timeoutMs?: number; method?: string; body?: string | Buffer; host?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: opts.host ?? '127.0.0.1', port, path, method: opts.method ?? 'GET', agent: opts.agent ?? false, headers: opts.headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode!, statusMessage: res.statusMessage, headers: res.headers, rawHeaders: res.rawHeaders, body }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.setTimeout(opts.timeoutMs ?? 20_000, () => req.destroy(new Error(`timeout: GET ${path}`)))
    req.end(opts.body)
  })
}

/** A steady closed-loop load: `concurrency` loops of GET path until stop(); counts every outcome. */
export function steadyLoad(port: number, path: string, concurrency: number, agent?: http.Agent, host?: string) {
  let running = true
  const result = { ok: 0, failed: 0, errors: [] as string[] }
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      try {
        const r = await get(port, path, { agent: agent ?? false, host })
        if (r.status >= 200 && r.status < 400) result.ok++
        else {
          result.failed++
          result.errors.push(`status ${r.status}`)
        }
      } catch (err) {
        result.failed++
        result.errors.push((err as Error).message)
      }
    }
  })
  return {
    result,
    stop: async () => {
      running = false
      await Promise.all(loops)
      return result
    },
  }
}
