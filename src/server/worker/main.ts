/**
 * The worker process: forked by the arbiter (see ipc.ts for the fd layout and messages).
 *
 *   booting: handlers, app load, post_worker_init  -> {t:'booted'}
 *   ready:   listening on every inherited fd       -> {t:'ready'}, heartbeats
 *   draining: stop accepting, finish in-flight, close kept-alive connections -> exit 0
 */
import net from 'node:net'
import { openSync, writeSync, closeSync } from 'node:fs'
import { WORKER_ENV, type MasterMessage, type WorkerBootInfo, type WorkerMessage } from './ipc.js'
import { WorkerCounters } from '../accounting/counters.js'
import { loadApp } from '../app/load.js'
import { createHttpServer } from '../http/server.js'
import { trackConnections, type ConnectionTracking } from '../classes/event-loop.js'
import { startThreadPool, type ThreadPool } from '../classes/gthread/pool.js'
import { instrument, nativeServer } from '../classes/native.js'
import { formatAccessLog } from '../log/access.js'
import { kIdleSince, kUpgraded, type PaddockSocket } from '../symbols.js'
import { loadConfigFile } from '../config/file.js'
import { describeError } from '../errors.js'
import type { LogLevel } from '../../shared/protocol.js'

// Master-only signals must never stop or kill a worker: without a handler SIGTTIN/SIGTTOU
// stop a Node process and SIGUSR1 opens the inspector.
for (const sig of ['SIGHUP', 'SIGTTIN', 'SIGTTOU', 'SIGWINCH', 'SIGUSR2'] as const) process.on(sig, () => {})

const info: WorkerBootInfo = JSON.parse(process.env[WORKER_ENV] ?? 'null')
if (!info) {
  process.stderr.write('paddock worker: started without PADDOCK_WORKER; workers are started by the arbiter\n')
  process.exit(2)
}
const settings = info.settings
const send = (m: WorkerMessage) => {
  lastSent = Date.now()
  if (process.connected) process.send?.(m)
}
const log = (level: LogLevel, message: string) => send({ t: 'log', level, message })

const counters = new WorkerCounters(process.pid, info.generation)
let draining = false
let tracking: ConnectionTracking | null = null
const listeners: net.Server[] = []
let hooks: Record<string, (...a: unknown[]) => unknown> = {}
let pool: ThreadPool | null = null
let lastBeat = Date.now()
let lastSent = Date.now()
let announcedSinceBeat = false
/** responses still to answer with Connection: close to give connections back (see the arbiter's balance) */
let shedding = 0

// -------------------------------------------------------------- access log
let accessFd: number | null = null
function openAccessLog(): void {
  const target = settings.accesslog as string | null
  if (accessFd !== null && accessFd > 2) closeSync(accessFd)
  accessFd = !target ? null : target === '-' ? 1 : openSync(target, 'a')
}
const accessFormat = String(settings.access_log_format)

// -------------------------------------------------------------- lifecycle
function workerApi() {
  return { pid: process.pid, id: info.id, generation: info.generation, workerClass: info.workerClass, settings }
}

function runHook(name: string, ...args: unknown[]): void {
  const hook = hooks[name]
  if (!hook) return
  try {
    hook(...args)
  } catch (err) {
    log('error', `hook ${name} raised: ${describeError(err)}`)
  }
}

async function boot(): Promise<void> {
  if (info.configFile) {
    try {
      const file = await loadConfigFile(info.configFile)
      hooks = Object.fromEntries(Object.entries(file).filter(([, v]) => typeof v === 'function')) as typeof hooks
    } catch (err) {
      log('warning', `worker could not load hooks from ${info.configFile}: ${describeError(err)}`)
    }
  }
  runHook('post_fork', null, workerApi())
  openAccessLog()
  // gthread: the app runs in the pool's threads; this thread owns the connections.
  const threaded = info.workerClass === 'gthread'
  const threads = Math.max(1, Number(settings.threads ?? 1))
  if (threaded) {
    pool = await startThreadPool({ threads, settings, log, onChange: () => tracking?.update() })
    counters.threadsTotal = threads
  }
  const refs = new WeakMap<import('node:http').IncomingMessage, import('../accounting/counters.js').ActiveRequest>()
  // gthread loads the app here only to hand WebSocket upgrades to it (sockets cannot go to threads)
  const native = info.workerClass === 'native'
  const app = native || (threaded && !pool!.hasUpgrade) ? null : await loadApp(String(settings.app), { factory: settings.factory === true, interface: String(settings.interface ?? 'auto') })
  const listener: import('../app/load.js').NodeListener = threaded ? (req, res) => pool!.dispatch(req, res, refs.get(req)!) : (app?.listener ?? (() => undefined))
  runHook('post_worker_init', workerApi())
  send({ t: 'booted' })

  const isSync = info.workerClass === 'sync'
  let server: import('node:http').Server
  if (info.workerClass === 'native') {
    // the app's own server parses, routes and upgrades; paddock feeds and watches it
    server = await nativeServer(String(settings.app), settings.factory === true)
    instrument(server, counters, { onRequestStart: requestStarted, onRequestEnd: requestEnded })
  } else {
    server = createHttpServer({
      settings,
      listener,
      counters,
      keepAlive: !isSync,
      countBytes: Boolean(settings.accesslog),
      isDraining: () => draining,
      shed: () => shedding > 0 && shedding-- > 0,
      hooks: { pre_request: hooks.pre_request, post_request: hooks.post_request },
      onHookError: (name, err) => log('error', `hook ${name} raised: ${describeError(err)}`),
      onAppError: (err, req) => log('error', `error handling ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`),
      onRequestStart: (ref, req) => {
        if (threaded) refs.set(req, ref)
        requestStarted(ref)
      },
      onRequestEnd: requestEnded,
    })
    server.on('upgrade', upgradeHandler(app?.upgrade, isSync && settings.allow_sync_upgrades !== true))
  }

  for (const l of info.listeners) {
    // the socket options http.Server gives its own connections: half-open is left to the
    // HTTP layer (a client's FIN aborts its request, so apps see 'close' and stop work), and
    // no Nagle delay on small answers
    const ln = net.createServer({ allowHalfOpen: true, pauseOnConnect: false, noDelay: true }, (socket) => server.emit('connection', socket))
    await new Promise<void>((resolve, reject) => {
      ln.once('error', reject)
      ln.listen({ fd: l.fd, backlog: Number(settings.backlog ?? 2048) }, () => resolve())
    })
    listeners.push(ln)
  }
  const limit = isSync ? 1 : Number(settings.worker_connections ?? 1000)
  // gthread also stops accepting while every thread is busy and requests already wait
  tracking = trackConnections(server, listeners, counters, limit, (m) => log('warning', m), pool ?? undefined)
  send({ t: 'ready' })
  heartbeat()
}

/**
 * A request that blocks the loop must be named before it runs, or the timeout log cannot
 * say what was stuck. Announce the first request after each heartbeat and any request
 * after a quiet moment: at most a few messages a second under load.
 */
function requestStarted(ref: import('../accounting/counters.js').ActiveRequest): void {
  if (!announcedSinceBeat || Date.now() - lastSent > 10) {
    announcedSinceBeat = true
    send({ t: 'req', request: { method: ref.method, url: ref.url, startedAt: ref.startedAt } })
  }
}

function requestEnded(ref: import('../accounting/counters.js').ActiveRequest, req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, bytes: number): void {
  if (accessFd !== null) writeAccess(ref.startedAt, req, res, bytes)
  if (maxRequests > 0 && counters.requests >= maxRequests && !retireAsked) {
    retireAsked = true
    send({ t: 'retire', requests: counters.requests })
  }
  if (draining) maybeExit()
}

/**
 * Upgrades (WebSockets) go to the app's `upgrade(req, socket, head)` export and count as
 * upgraded connections. A sync worker refuses them unless allowed: one long-lived
 * connection would hold the whole worker.
 */
function upgradeHandler(upgrade: ((req: import('node:http').IncomingMessage, socket: net.Socket, head: Buffer) => void) | undefined, refuseSync: boolean) {
  const refuse = (socket: net.Socket, why: string) => {
    const body = `${why}\n`
    socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  }
  return (req: import('node:http').IncomingMessage, socket: net.Socket, head: Buffer) => {
    if (!upgrade) return refuse(socket, 'this app does not handle protocol upgrades (export an upgrade(req, socket, head) function)')
    if (refuseSync) return refuse(socket, 'sync workers refuse protocol upgrades: one long-lived connection would occupy a whole worker; use -k async or gthread, or --allow-sync-upgrades')
    counters.upgraded++
    ;(socket as PaddockSocket)[kUpgraded] = String(req.headers.upgrade ?? 'unknown').toLowerCase()
    socket.once('close', () => counters.upgraded--)
    try {
      upgrade(req, socket, head)
    } catch (err) {
      log('error', `upgrade handler raised: ${describeError(err)}`)
      socket.destroy()
    }
  }
}

let maxRequests = Number(settings.max_requests ?? 0)
if (maxRequests > 0) maxRequests += Math.floor(Math.random() * (Number(settings.max_requests_jitter ?? 0) + 1))
let retireAsked = false

function writeAccess(startedAt: number, req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, bytes: number): void {
  const line = formatAccessLog(accessFormat, {
    remoteAddress: req.socket.remoteAddress ?? '-',
    method: req.method ?? '-',
    url: req.url ?? '-',
    httpVersion: req.httpVersion,
    status: res.statusCode,
    bytes,
    durationMs: Date.now() - startedAt,
    pid: process.pid,
    at: new Date(startedAt),
    requestHeaders: req.headers,
    responseHeaders: res.getHeaders(),
  })
  try {
    writeSync(accessFd!, line + '\n')
  } catch {
    // a full disk must not fail the request
  }
}

function heartbeat(): void {
  lastBeat = Date.now()
  announcedSinceBeat = false
  const beat = counters.beat()
  if (pool) {
    // the main thread's count includes requests waiting for a thread: split them
    const running = pool.running()
    beat.stats = { ...beat.stats, inFlight: running, queued: pool.queued(), threadsBusy: running, threadsTotal: pool.size, threadSlots: pool.slots() }
  }
  if (shedding > 0) beat.stats.shedding = shedding
  send({ t: 'hb', ...beat })
  setTimeout(heartbeat, info.heartbeatMs).unref()
}

// -------------------------------------------------------------- draining
let drainDeadline: NodeJS.Timeout | null = null
function drain(reason: string, gracefulMs: number): void {
  if (draining) return
  draining = true
  runHook('worker_int', workerApi())
  for (const ln of listeners) ln.close()
  // Give up waiting after the graceful timeout: what still runs is cut off.
  // WebSockets still open then get a close frame (1001 going away), so clients reconnect
  // cleanly to another worker instead of seeing a reset.
  drainDeadline = setTimeout(() => {
    const open = goingAway()
    setTimeout(() => exit(0, `graceful timeout after ${gracefulMs} ms (${counters.inFlight} requests cut off, ${open} upgraded connections closed)`), open ? 200 : 0).unref()
  }, gracefulMs)
  drainDeadline.unref()
  closeIdleLoop()
  maybeExit()
  void reason
}

/** WebSocket close frame, server to client (unmasked): status 1001 "going away". */
const GOING_AWAY = Buffer.from([0x88, 0x02, 0x03, 0xe9])

function goingAway(): number {
  let n = 0
  for (const socket of tracking?.sockets ?? []) {
    const s = socket as PaddockSocket
    if (!s[kUpgraded] || s.destroyed) continue
    n++
    // a close frame only means something to a WebSocket peer; other upgrades are just ended
    if (s[kUpgraded] === 'websocket') s.end(GOING_AWAY)
    else s.end()
  }
  return n
}

/** Close kept-alive connections once idle for a moment: a client that is just sending is not cut. */
function closeIdleLoop(): void {
  if (!tracking) return
  for (const socket of tracking.sockets) {
    const s = socket as PaddockSocket
    // an upgraded connection (WebSocket) is the app's to close; the graceful timeout bounds it
    if (s._httpMessage || s[kUpgraded]) {
      s[kIdleSince] = undefined
      continue
    }
    s[kIdleSince] ??= Date.now()
    if (Date.now() - s[kIdleSince] >= 250) s.destroySoon()
  }
  maybeExit()
  setTimeout(closeIdleLoop, 50).unref()
}

function maybeExit(): void {
  if (draining && counters.inFlight === 0 && (tracking?.sockets.size ?? 0) === 0) exit(0, 'drained')
}

let exiting = false
function exit(code: number, why: string): void {
  if (exiting) return
  exiting = true
  if (drainDeadline) clearTimeout(drainDeadline)
  runHook('worker_exit', null, workerApi())
  if (code === 0) send({ t: 'drained' })
  void why
  // Let the IPC message flush before leaving.
  setImmediate(() => process.exit(code))
}

// -------------------------------------------------------------- control
process.on('message', (m: MasterMessage) => {
  if (m.t === 'drain') drain(m.reason, m.gracefulTimeoutMs)
  else if (m.t === 'quit') exit(0, 'quit')
  else if (m.t === 'reopen-logs') openAccessLog()
  else if (m.t === 'shed' && tracking) {
    shedding = Math.min(m.count, tracking.sockets.size)
    log('info', `rebalancing: giving back ${shedding} of ${tracking.sockets.size} kept-alive connections to the other workers`)
    // while the surplus reconnects, leave new connections to the other workers
    tracking.hold(500)
  }
})
process.on('SIGTERM', () => drain('SIGTERM', Number(settings.graceful_timeout ?? 30) * 1000))
process.on('SIGINT', () => process.exit(0))
process.on('SIGQUIT', () => process.exit(0))
process.on('SIGUSR1', () => openAccessLog())
process.on('SIGABRT', () => {
  runHook('worker_abort', workerApi())
  process.exit(134)
})
// The master is gone (even SIGKILLed): stop accepting and leave promptly so the port frees.
// The IPC channel closing is the fast signal; a changed parent pid is the fallback.
let orphaned = false
function leaveOrphaned(): void {
  if (orphaned) return
  orphaned = true
  for (const ln of listeners) ln.close()
  if (counters.inFlight === 0) process.exit(0)
  setTimeout(() => process.exit(0), 800).unref()
}
process.on('disconnect', leaveOrphaned)
setInterval(() => {
  if (process.ppid !== info.masterPid) leaveOrphaned()
}, 250).unref()
process.on('uncaughtException', (err) => {
  log('error', `uncaught exception in worker: ${err?.stack ?? String(err)}`)
})
process.on('unhandledRejection', (err) => {
  log('error', `unhandled rejection in worker: ${(err as Error)?.stack ?? String(err)}`)
})

boot().catch((err) => {
  send({ t: 'boot-error', error: describeError(err), stack: (err as Error)?.stack, code: (err as { code?: string })?.code })
  setTimeout(() => process.exit(err?.code === 'PADDOCK_ERR_APP_LOAD' || err?.code === 'PADDOCK_ERR_APP_NOT_FOUND' || err?.code === 'PADDOCK_ERR_APP_EXPORT' ? 4 : 3), 50)
})
