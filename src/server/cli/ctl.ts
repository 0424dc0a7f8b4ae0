/**
 * `paddock ctl`: steer a running server over its Unix control socket.
 * Every failure is one line on stderr and a non-zero exit code: 2 for a usage error
 * (as `paddock` and `paddock load`), 1 when the server cannot be reached or refuses.
 */
import fs from 'node:fs'
import type net from 'node:net'
import { parseArgs } from 'node:util'
import { PROTOCOL_VERSION, type ArbiterSnapshot, type CommandResult, type ControlCommand, type ServerFrame } from '../../shared/protocol.js'
import { shownAddress } from '../../shared/listeners.js'
import { eventsCsv, historyCsv, type ReplayedHistory } from '../../shared/history.js'
import { WORKER_CLASSES, type WorkerClassInput } from '../../shared/worker-classes.js'
import { encodeFrame, FrameDecoder } from '../control/framing.js'
import { connectUnix, defaultSocketDir, defaultSocketPath } from '../control/unix-socket.js'
import { liveControlSockets } from '../control/live-sockets.js'
import { describeClientCertAlert } from '../control/remote.js'

const USAGE = `usage: paddock ctl [--socket PATH | --control-socket PATH | --name NAME] COMMAND
       paddock ctl --remote [tls://]HOST:PORT... --token-file FILE... [--ca-certs FILE] [--certfile FILE --keyfile FILE] COMMAND
  status [--json] | workers [--json] | watch | reload [--rolling] | add [N] | remove [N] | scale N
  class NAME [--threads N] [--worker-connections N] | kill PID [SIG] | stop [--quick]
  reopen-logs (USR1) | stop-workers (WINCH) | reexec (USR2) | reexec --cancel
  config get [NAME] [--json] | config set NAME VALUE
  export history|events [--csv]   (the last 10 minutes the server kept, JSON or CSV on stdout)`

const OPTIONS = {
  socket: { type: 'string' },
  // the server's own flag for the same path, so a command line can be copied from one to the other
  'control-socket': { type: 'string' },
  name: { type: 'string', short: 'n' },
  json: { type: 'boolean' },
  quick: { type: 'boolean' },
  csv: { type: 'boolean' },
  cancel: { type: 'boolean' },
  threads: { type: 'string' },
  'worker-connections': { type: 'string' },
  // the TCP control endpoint of one or more servers (--control-bind on their side)
  remote: { type: 'string', multiple: true },
  'token-file': { type: 'string', multiple: true },
  'ca-certs': { type: 'string' },
  // a client certificate, for endpoints started with --control-ca-certs
  certfile: { type: 'string' },
  keyfile: { type: 'string' },
  rolling: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

type Flags = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[] : (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean
}

/** The flags each command takes besides the socket ones; any other is a usage error, not ignored. */
const COMMAND_FLAGS: Record<string, (keyof Flags)[]> = {
  status: ['json'], workers: ['json'], config: ['json'], class: ['threads', 'worker-connections'], stop: ['quick'], reexec: ['cancel'], reload: ['rolling'], export: ['csv'],
}

/** Where the server is: these flags go with every command. */
const TARGET_FLAGS = ['socket', 'control-socket', 'name', 'remote', 'token-file', 'ca-certs', 'certfile', 'keyfile', 'help']

export class CtlError extends Error {}
/** A mistake on the command line: exit 2 and the usage. */
export class UsageError extends CtlError {}

/** The one control socket of a running master, skipping the files dead masters left behind. */
async function findSocket(name?: string): Promise<string> {
  if (name) return defaultSocketPath(name)
  const dir = defaultSocketDir()
  const live = await liveControlSockets(dir)
  if (live.length === 1) return live[0]!
  if (live.length > 1) throw new CtlError(`several running servers have control sockets in ${dir} (${live.map((p) => p.slice(dir.length + 1)).join(', ')}); pick one with --socket PATH or --name NAME`)
  let stale = 0
  try {
    stale = fs.readdirSync(dir).filter((f) => f.endsWith('.sock')).length
  } catch {
    // no directory: nothing ever ran
  }
  throw new CtlError(`no running paddock found in ${dir}${stale ? ` (${stale} stale socket${stale === 1 ? '' : 's'} of stopped servers)` : ''}; is paddock running? (or pass --socket PATH)`)
}

function int(v: string | undefined, what: string): number {
  const n = Number(v)
  if (v === undefined || !Number.isInteger(n) || n < 1) throw new UsageError(`${what} must be a positive integer, got "${v ?? ''}"`)
  return n
}

function parseValue(v: string): unknown {
  try {
    return JSON.parse(v)
  } catch {
    return v
  }
}

/** `ctl export history|events`: what the server kept, printed as JSON or CSV */
export type ExportWhat = { export: 'history' | 'events' }
export type CtlAction = ControlCommand | 'workers' | 'watch' | ExportWhat

function toCommand(args: string[], flags: Flags): CtlAction {
  const [cmd, a, b, c] = args
  const allowed = new Set<string>([...TARGET_FLAGS, ...(COMMAND_FLAGS[cmd ?? ''] ?? [])])
  const stray = Object.keys(flags).find((f) => !allowed.has(f))
  if (stray) throw new UsageError(`"${cmd}" takes no --${stray}`)
  switch (cmd) {
    case 'status':
      return { cmd: 'status' }
    case 'workers':
      return 'workers'
    case 'watch':
      return 'watch'
    case 'reload':
      return { cmd: 'reload' }
    case 'add':
      return { cmd: 'workers.add', count: a === undefined ? 1 : int(a, 'N') }
    case 'remove':
      return { cmd: 'workers.remove', count: a === undefined ? 1 : int(a, 'N') }
    case 'scale':
      return { cmd: 'workers.scale', count: int(a, 'N') }
    case 'class': {
      if (!a) throw new UsageError(`class needs a NAME (${WORKER_CLASSES.join(', ')})`)
      const t = flags.threads
      const wc = flags['worker-connections']
      return {
        cmd: 'class.set',
        // the server checks the name and answers with the accepted ones
        workerClass: a as WorkerClassInput,
        threads: t === undefined ? undefined : int(t, '--threads'),
        workerConnections: wc === undefined ? undefined : int(wc, '--worker-connections'),
      }
    }
    case 'kill':
      return { cmd: 'workers.kill', pid: int(a, 'PID'), signal: b }
    case 'stop':
      return { cmd: 'stop', mode: flags.quick ? 'quick' : 'graceful' }
    case 'reopen-logs':
      return { cmd: 'logs.reopen' }
    case 'stop-workers':
      return { cmd: 'workers.stopAll' }
    case 'reexec':
      return flags.cancel ? { cmd: 'reexec.cancel' } : { cmd: 'reexec' }
    case 'export':
      if (a === 'history' || a === 'events') return { export: a }
      throw new UsageError('use: export history|events [--csv]')
    case 'config':
      if (a === 'get') return { cmd: 'config.get', name: b }
      if (a === 'set' && b !== undefined && c !== undefined) return { cmd: 'config.set', name: b, value: parseValue(c) }
      throw new UsageError('use: config get [NAME] | config set NAME VALUE')
    default:
      throw new UsageError(cmd ? `unknown command "${cmd}"` : 'no command given')
  }
}

function fmtBytes(n: number | null): string {
  return n === null ? '-' : `${(n / 1048576).toFixed(1)}M`
}

export function workersTable(s: ArbiterSnapshot): string {
  const rows = [['PID', 'SLOT', 'GEN', 'CLASS', 'STATE', 'REQS', 'INFLIGHT', 'CONNS', 'THREADS', 'CPU%', 'RSS']]
  for (const w of s.workers) {
    rows.push([
      String(w.pid), String(w.slot ?? '-'), String(w.generation), w.workerClass, w.state, String(w.requests), String(w.inFlight),
      String(w.connections), `${w.threadsBusy}/${w.threadsTotal}`, w.cpu === null ? '-' : w.cpu.toFixed(1), fmtBytes(w.rss),
    ])
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n')
}

export function statusText(s: ArbiterSnapshot): string {
  const q = s.listeners.map((l) => `${shownAddress(l)} (queue ${l.queueDepth ?? '-'})`).join(', ')
  return [
    `${s.name} pid ${s.pid}: ${s.state}, generation ${s.generation}, ${s.workerClass}`,
    `workers ${s.workers.filter((w) => w.state !== 'exited').length}/${s.targetWorkers}, requests ${s.counters.requests}, ${s.rates.requestsPerSec.toFixed(1)} req/s`,
    `listening: ${q}`,
    ...upgradeLines(s),
  ].join('\n')
}

function upgradeLines(s: ArbiterSnapshot): string[] {
  const u = s.upgrade
  if (!u) return []
  if (u.newMasterPid !== null) return [`new master ${u.newMasterPid} ${u.newMasterReady ? 'serves beside this one: stop this one to finish, or TERM it to go back' : 'is starting'}`]
  if (u.oldMasterPid !== null) return [`old master ${u.oldMasterPid} still serves beside this one`]
  return []
}

export interface CtlSession {
  sock: net.Socket
  call(c: ControlCommand): Promise<ServerFrame & { type: 'result' }>
}

/** How to reach one server: its Unix control socket, or a TCP endpoint with a token. */
export interface Reach {
  label: string
  connect(): Promise<net.Socket>
  token?: string
}

function unixReach(sockPath: string): Reach {
  return {
    label: sockPath,
    connect: () =>
      connectUnix(sockPath).catch((err: NodeJS.ErrnoException) => {
        const code = err.code
        throw new CtlError(`cannot connect to ${sockPath}: ${code === 'ECONNREFUSED' ? 'connection refused (stale socket? is paddock running?)' : code === 'ENOENT' ? 'no such socket' : String(code ?? err)}`)
      }),
  }
}

/** A connected, welcomed session over the control socket. */
export async function open(reach: Reach, onFrame?: (f: ServerFrame) => void): Promise<CtlSession> {
  const sock = await reach.connect()
  const dec = new FrameDecoder()
  const pending = new Map<number, (f: ServerFrame & { type: 'result' }) => void>()
  let welcome: (() => void) | null = null
  let fatal: (e: Error) => void = () => {}
  const failed = new Promise<never>((_, rej) => (fatal = rej))
  failed.catch(() => {})
  sock.on('data', (chunk) => {
    let frames: ServerFrame[]
    try {
      frames = dec.push(chunk) as ServerFrame[]
    } catch (e) {
      fatal(new CtlError(`bad frame from server: ${(e as Error).message}`))
      return
    }
    for (const f of frames) {
      if (f.type === 'welcome') welcome?.()
      else if (f.type === 'error') fatal(new CtlError(f.error.message))
      else if (f.type === 'result') pending.get(f.id)?.(f)
      onFrame?.(f)
    }
  })
  sock.on('close', () => fatal(new CtlError('the server closed the connection')))
  sock.on('error', (e: NodeJS.ErrnoException) => {
    // a server that drops a connection unread (a blocked address) closes it with our hello
    // still in its buffer, which the kernel turns into a reset: to the user that is a close
    if (e.code === 'ECONNRESET' || e.code === 'EPIPE') fatal(new CtlError('the server closed the connection'))
    else fatal(new CtlError(describeClientCertAlert(e) ?? `control socket error: ${e.message}`))
  })
  sock.write(encodeFrame({ type: 'hello', protocol: PROTOCOL_VERSION, client: 'paddock-ctl', token: reach.token }))
  await Promise.race([new Promise<void>((r) => (welcome = r)), failed])
  let nextId = 1
  return {
    sock,
    call: (command) => {
      const id = nextId++
      const p = new Promise<ServerFrame & { type: 'result' }>((r) => pending.set(id, r))
      sock.write(encodeFrame({ type: 'command', id, command }))
      return Promise.race([p, failed])
    },
  }
}

/** The command that answers an action: `workers` reads the status, an export the history. */
export function commandOf(what: Exclude<CtlAction, 'watch'>): ControlCommand {
  return what === 'workers' ? { cmd: 'status' } : 'export' in what ? { cmd: 'history.get' } : what
}

/** What --json prints for one server's answer. */
export function jsonOf(what: CtlAction, data: unknown): unknown {
  if (typeof what === 'object' && 'export' in what) return what.export === 'history' ? (data as ReplayedHistory).points : (data as ReplayedHistory).events
  return what === 'workers' ? (data as ArbiterSnapshot).workers : data
}

/** What a person reads for one server's successful answer (an export: JSON, or CSV with --csv). */
export function resultText(what: CtlAction, result: CommandResult & { ok: true }, csv = false): string {
  const data = result.data
  if (typeof what === 'object' && 'export' in what) {
    const h = data as ReplayedHistory
    if (what.export === 'history') return csv ? historyCsv(h.points).trimEnd() : JSON.stringify(h.points, null, 2)
    return csv ? eventsCsv(h.events).trimEnd() : JSON.stringify(h.events, null, 2)
  }
  if (what === 'workers') return workersTable(data as ArbiterSnapshot)
  if (typeof what === 'object' && what.cmd === 'status') return statusText(data as ArbiterSnapshot)
  if (typeof what === 'object' && what.cmd === 'config.get') {
    const list = Array.isArray(data) ? data : [data]
    return (list as { name: string; value: unknown; source: string }[]).map((s2) => `${s2.name} = ${JSON.stringify(s2.value)}  (${s2.source})`).join('\n')
  }
  return result.message ?? 'ok'
}

/** Strict parsing: an unknown or misplaced flag is a usage error, never silently dropped. */
export function parseCtlArgs(argv: string[]): { args: string[]; flags: Flags } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
    return { args: positionals, flags: values as Flags }
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional.*$/s, '').replace(/^Unknown option/, 'unrecognized option'))
  }
}

export async function runCtl(argv: string[]): Promise<number> {
  let sock: net.Socket | undefined
  try {
    const { args, flags } = parseCtlArgs(argv)
    if (flags.help) {
      process.stdout.write(USAGE + '\n')
      return 0
    }
    if (flags.socket !== undefined && flags['control-socket'] !== undefined && flags.socket !== flags['control-socket']) {
      throw new UsageError('--socket and --control-socket name the same thing: give one')
    }
    const what = toCommand(args, flags)
    if (flags.remote) {
      if (flags.socket !== undefined || flags['control-socket'] !== undefined || flags.name !== undefined) throw new UsageError('--remote names the servers: give no --socket or --name with it')
      const { runRemote } = await import('./ctl-remote.js')
      return await runRemote(what, flags as Parameters<typeof runRemote>[1])
    }
    if (flags['token-file'] || flags['ca-certs'] || flags.certfile || flags.keyfile) throw new UsageError('--token-file, --ca-certs, --certfile and --keyfile go with --remote HOST:PORT')
    const given = flags.socket ?? flags['control-socket']
    if (given === '') throw new UsageError('--socket needs a PATH')
    const reach = unixReach(given ?? (await findSocket(flags.name)))
    if (what === 'watch') return await watch(reach)
    const s = await open(reach)
    sock = s.sock
    const res = await s.call(commandOf(what))
    if (!res.result.ok) throw new CtlError(`${res.result.error.message} (${res.result.error.code})`)
    if (flags.json) process.stdout.write(JSON.stringify(jsonOf(what, res.result.data), null, 2) + '\n')
    else process.stdout.write(resultText(what, res.result, flags.csv) + '\n')
    return 0
  } catch (err) {
    process.stderr.write(`paddock ctl: ${err instanceof Error ? err.message : String(err)}\n`)
    if (err instanceof UsageError) {
      process.stderr.write(USAGE + '\n')
      return 2
    }
    return 1
  } finally {
    sock?.destroy()
  }
}

/** Live table, redrawn on each snapshot; Ctrl-C exits 0. */
export async function watch(reach: Reach): Promise<number> {
  let last = 0
  const s = await open(reach, (f) => {
    if (f.type !== 'snapshot' || Date.now() - last < 250) return
    last = Date.now()
    process.stdout.write('\x1b[H\x1b[2J' + statusText(f.snapshot) + '\n\n' + workersTable(f.snapshot) + '\n')
  })
  return new Promise<number>((resolve) => {
    const done = (code: number) => {
      s.sock.destroy()
      resolve(code)
    }
    process.once('SIGINT', () => done(0))
    s.sock.on('close', () => {
      process.stderr.write('paddock ctl: the server closed the connection\n')
      done(1)
    })
  })
}
