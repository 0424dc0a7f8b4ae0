/**
 * Parsing --bind addresses and binding them: in the master, on a socket it then listens on
 * through its fd so that it can be paused (bindHere), or through the binder child when this
 * Node lacks the internal that takes (binder-child.ts).
 */
import { fork } from 'node:child_process'
import { lookup } from 'node:dns/promises'
import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs'
import net from 'node:net'
import { resolve } from 'node:path'
import { getSystemErrorName } from 'node:util'
import { PaddockError } from '../errors.js'
import type { ListenerSnapshot } from '../../shared/protocol.js'
import { listenOnFd } from '../platform/listen-fd.js'

export interface BindSpec {
  bind: string
  kind: 'tcp' | 'unix' | 'fd'
  host?: string
  port?: number
  path?: string
  fd?: number
  backlog: number
  /**
   * An already-bound listening socket this master got from its parent (USR2 or systemd):
   * listened on like fd://N, while `bind` still says what it is.
   */
  inheritedFd?: number
}

export interface BoundListener {
  spec: BindSpec
  server: net.Server
  fd: number
  snapshot: ListenerSnapshot
}

export function parseBind(bind: string, backlog: number): BindSpec {
  if (bind.startsWith('unix:')) return { bind, kind: 'unix', path: resolve(bind.slice(5)), backlog }
  if (bind.startsWith('fd://')) return { bind, kind: 'fd', fd: Number(bind.slice(5)), backlog }
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(bind)
  if (v6) return { bind, kind: 'tcp', host: v6[1], port: v6[2] ? Number(v6[2]) : 8000, backlog }
  const [host, port] = bind.includes(':') ? bind.split(':') : [bind, '8000']
  return { bind, kind: 'tcp', host: host || '0.0.0.0', port: Number(port), backlog }
}

const BIND_REASONS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available on this machine',
  ENOTFOUND: 'host name not found',
  EINVAL: 'invalid address',
}

function bindError(spec: BindSpec, code: string | undefined, message: string): PaddockError {
  return new PaddockError('PADDOCK_ERR_BIND', `cannot listen at ${spec.bind}: ${BIND_REASONS[code ?? ''] ?? message}${code ? ` (${code})` : ''}`)
}

/** Pause a received listening handle: the master must never accept. */
function holdWithoutAccepting(server: net.Server): void {
  const h = (server as unknown as { _handle?: { readStart(): number; readStop(): number } })._handle
  if (h && h.readStart() === 0) h.readStop()
}

/** a bound socket not listening yet (Node's TCP or Pipe handle), as net._createServerHandle gives it */
interface BoundHandle {
  fd: number
  close(): void
}
type CreateServerHandle = (address: string | null, port: number, addressType: number, fd?: number, flags?: number) => BoundHandle | number
/** libuv's UV_TCP_IPV6ONLY */
const UV_TCP_IPV6ONLY = 1

/**
 * Bind in the master without a child: net._createServerHandle (what Node's cluster primary
 * binds with) gives a bound socket that is not listening and has no watcher; the master then
 * listens on its fd with listen({ fd }), which makes a handle libuv flags readable, so it can
 * be paused like an inherited one (holdWithoutAccepting) and the master never accepts. This
 * saves the binder child (still used when PADDOCK_BIND_IN_CHILD=1 is set, or when the
 * internal is missing), a whole Node start (~130 ms on a quiet machine, 300 ms and more on
 * a loaded one) before any worker can be forked. The bound handle shares the fd with the
 * listening one and is kept, never closed: closing it would close the socket.
 */
async function bindHere(spec: BindSpec): Promise<net.Server> {
  const create = (net as unknown as { _createServerHandle?: CreateServerHandle })._createServerHandle!
  let bound: BoundHandle | number
  if (spec.kind === 'unix') {
    if (existsSync(spec.path!) && lstatSync(spec.path!).isSocket()) unlinkSync(spec.path!)
    bound = create(spec.path!, -1, -1)
  } else {
    const host = spec.host ?? '0.0.0.0'
    const { address, family } = net.isIP(host) ? { address: host, family: net.isIP(host) } : await lookup(host)
    bound = create(address, spec.port ?? 8000, family, undefined, family === 6 ? UV_TCP_IPV6ONLY : 0)
  }
  if (typeof bound === 'number') throw Object.assign(new Error(`bind failed (${bound})`), { code: uvCode(bound) })
  if (spec.kind !== 'unix' && spec.port) {
    // libuv reports EADDRINUSE only at listen(), on the handle that bound: listening on the
    // fd of a socket whose bind failed would bind it to an ephemeral port instead. An
    // unbound socket has no port of its own: that is the failed bind.
    const name: { port?: number } = {}
    ;(bound as BoundHandle & { getsockname(out: object): number }).getsockname(name)
    if (name.port !== spec.port) {
      bound.close()
      throw Object.assign(new Error('address already in use'), { code: 'EADDRINUSE' })
    }
  }
  const server = net.createServer()
  await new Promise<void>((res, rej) => {
    server.once('error', rej)
    server.listen({ fd: (bound as BoundHandle).fd, backlog: spec.backlog }, () => res())
  })
  if (spec.kind === 'unix') chmodSync(spec.path!, 0o660)
  ;(server as unknown as { [kBoundHandle]: BoundHandle })[kBoundHandle] = bound
  return server
}
const kBoundHandle = Symbol('paddock.boundHandle')

function uvCode(errno: number): string | undefined {
  try {
    return getSystemErrorName(errno)
  } catch {
    return undefined
  }
}

export async function bindAll(specs: BindSpec[], binderEntry: string, execArgv: string[] = []): Promise<BoundListener[]> {
  const out: BoundListener[] = []
  const openedFd = (s: BindSpec) => s.inheritedFd ?? (s.kind === 'fd' ? s.fd : undefined)
  const socketSpecs = specs.filter((s) => openedFd(s) === undefined)
  const received = new Map<number, { server: net.Server; address: net.AddressInfo | string | null }>()
  const canBindHere = typeof (net as unknown as { _createServerHandle?: unknown })._createServerHandle === 'function' && !process.env.PADDOCK_BIND_IN_CHILD
  if (socketSpecs.length && canBindHere) {
    for (const [i, spec] of socketSpecs.entries()) {
      let server: net.Server
      try {
        server = await bindHere(spec)
      } catch (err) {
        for (const r of received.values()) r.server.close()
        const e = err as NodeJS.ErrnoException
        throw bindError(spec, e.code, e.message)
      }
      holdWithoutAccepting(server)
      received.set(i, { server, address: server.address() })
    }
  } else if (socketSpecs.length) {
    const child = fork(binderEntry, [], { env: { ...process.env, PADDOCK_BINDS: JSON.stringify(socketSpecs) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv })
    await new Promise<void>((resolveAll, reject) => {
      child.on('message', (m: { t: string; index: number; code?: string; message?: string; address?: net.AddressInfo | string }, handle) => {
        if (m.t === 'bound') {
          const server = handle as net.Server
          holdWithoutAccepting(server)
          received.set(m.index, { server, address: m.address ?? null })
        } else if (m.t === 'bind-error') {
          for (const r of received.values()) r.server.close()
          reject(bindError(socketSpecs[Math.max(0, m.index)], m.code, m.message ?? 'failed'))
        } else if (m.t === 'done') resolveAll()
      })
      child.once('exit', (code) => {
        if (received.size < socketSpecs.length) reject(new PaddockError('PADDOCK_ERR_BIND', `binding failed: the binder process exited with code ${code}`))
      })
    })
  }
  let next = 0
  for (const spec of specs) {
    let server: net.Server
    let address: net.AddressInfo | string | null
    const fd = openedFd(spec)
    if (fd !== undefined) {
      server = net.createServer()
      await listenOnFd(server, fd, spec.backlog).catch((e: NodeJS.ErrnoException) => {
        throw bindError(spec, e.code, e.message)
      })
      holdWithoutAccepting(server)
      address = server.address()
    } else {
      const r = received.get(next++)!
      server = r.server
      address = r.address
    }
    const tcp = typeof address === 'object' && address !== null
    out.push({
      spec,
      server,
      fd: (server as unknown as { _handle: { fd: number } })._handle.fd,
      snapshot: {
        bind: spec.bind,
        kind: tcp ? 'tcp' : 'unix',
        host: tcp ? (address as net.AddressInfo).address : undefined,
        port: tcp ? (address as net.AddressInfo).port : undefined,
        path: spec.kind === 'unix' ? spec.path : undefined,
        backlog: spec.backlog,
        queueDepth: null,
      },
    })
  }
  return out
}

/** `secure`: the workers serve TLS on it (certfile set) */
export function listenerUrl(l: BoundListener, secure = false): string {
  // a Unix socket opened from an fd has no address to ask for: say which fd it is
  if (l.snapshot.kind === 'unix') return l.snapshot.path ? `unix:${l.snapshot.path}` : l.spec.bind
  const host = l.snapshot.host!.includes(':') ? `[${l.snapshot.host}]` : l.snapshot.host
  return `${secure ? 'https' : 'http'}://${host}:${l.snapshot.port}`
}

/**
 * The listeners to open: the bind setting, or the sockets handed down by a previous master
 * (USR2) or systemd, which then replace it (clients already connect to them; changing
 * addresses takes a restart, as with Gunicorn).
 */
export function bindSpecs(
  settings: Record<string, unknown>,
  inherited: { from: 'usr2' | 'systemd'; listeners: { fd: number; bind: string }[] } | undefined,
  log: { info(message: string): void },
): BindSpec[] {
  const backlog = Number(settings.backlog)
  const configured = settings.bind as string[]
  if (!inherited?.listeners.length) return configured.map((b) => parseBind(b, backlog))
  const binds = inherited.listeners.map((l) => l.bind)
  const from = inherited.from === 'usr2' ? 'the previous master' : 'systemd (LISTEN_FDS)'
  const differs = inherited.from === 'systemd' || JSON.stringify([...configured].sort()) !== JSON.stringify([...binds].sort())
  log.info(`Using ${binds.length} listening socket${binds.length === 1 ? '' : 's'} from ${from}${differs ? `; bind ${configured.join(', ')} is not used (changing addresses takes a restart)` : ''}`)
  return inherited.listeners.map((l) => ({ ...parseBind(l.bind, backlog), inheritedFd: l.fd }))
}
