/**
 * The worker process: forked by the arbiter (see ipc.ts for the fd layout and messages).
 * What differs between worker classes is behind the WorkerClass interface (classes/).
 *
 *   booting: handlers, the class boots (app, threads), post_worker_init -> {t:'booted'}
 *   ready:   listening on every inherited fd       -> {t:'ready', traits}, heartbeats
 *   draining: stop accepting, finish in-flight, close kept-alive connections -> exit 0
 */
import net from 'node:net'
import type http from 'node:http'
import { WORKER_ENV, type MasterMessage, type WorkerBootInfo, type WorkerMessage } from './ipc.js'
import { WorkerCounters, type ActiveRequest } from '../accounting/counters.js'
import { workerClass, type WorkerClass } from '../classes/index.js'
import type { BootedClass } from '../classes/worker-class.js'
import { trackConnections, type ConnectionTracking } from '../classes/accept.js'
import { endUpgraded } from '../classes/drain.js'
import { AccessLog } from './access-log.js'
import { createIntake } from '../http/intake.js'
import type { SslContextHook } from '../http/tls.js'
import { loadConfigFile } from '../config/file.js'
import { describeError } from '../errors.js'
import { runBounded, type Bound } from '../bounded-hook.js'
import { dropPrivileges, parseUmask } from '../platform/identity.js'
import type { LogLevel } from '../../shared/protocol.js'
import { listenOnFd } from '../platform/listen-fd.js'

/**
 * The slowest heartbeat, while a worker has nothing new to say; and at most a quarter of
 * --timeout. Each wake-up of an idle Node process costs about 0.5-0.8 ms of CPU on a
 * loaded 2 vCPU machine (a bare `setInterval(f, 1000)` read 0.8 ms/s), so the idle beat
 * is what an idle worker costs. Gunicorn's sync worker wakes every timeout / 2.
 */
const IDLE_BEAT_MS = 5000
/** a request that starts this long (ms) after the one before is announced (requestStarted) */
const QUIET_MS = 10
/** a heartbeat this late (ms) was held up by a stall; less is timer noise */
const LATE_BEAT_MS = 10

// Master-only signals must never stop or kill a worker: without a handler SIGTTIN/SIGTTOU
// stop a Node process and SIGUSR1 opens the inspector.
for (const sig of ['SIGHUP', 'SIGTTIN', 'SIGTTOU', 'SIGWINCH', 'SIGUSR2'] as const) process.on(sig, () => {})

const info: WorkerBootInfo = JSON.parse(process.env[WORKER_ENV] ?? 'null')
if (!info) {
  process.stderr.write('paddock worker: started without PADDOCK_WORKER; workers are started by the arbiter\n')
  process.exit(2)
}
const settings = info.settings
// before anything of the app or the config file runs: its user, group and umask (--user ...)
try {
  dropPrivileges(info.identity ?? null, settings.umask == null ? null : parseUmask(settings.umask))
} catch (err) {
  process.stderr.write(`paddock worker: cannot switch to uid ${info.identity?.uid} gid ${info.identity?.gid}: ${describeError(err)}\n`)
  process.exit(3)
}
const send = (m: WorkerMessage) => {
  if (process.connected) process.send?.(m)
}
const log = (level: LogLevel, message: string) => send({ t: 'log', level, message })

const counters = new WorkerCounters(process.pid, info.generation)
let draining = false
let tracking: ConnectionTracking | null = null
const listeners: net.Server[] = []
let hooks: Record<string, (...a: unknown[]) => unknown> = {}
let booted: BootedClass | null = null
let lastBeat = Date.now()
let announcedSinceBeat = false
/** when the last request started (Date.now()) */
let lastStartedAt = 0
/** responses still to answer with Connection: close to give connections back (see the arbiter's balance) */
let shedding = 0

// -------------------------------------------------------------- access log
const accessLog = new AccessLog(settings)
const openAccessLog = () => accessLog.reopen()

// -------------------------------------------------------------- lifecycle
function workerApi() {
  return { pid: process.pid, id: info.id, slot: info.slot, generation: info.generation, workerClass: info.workerClass, settings }
}

/** hooks on the way in may take --boot-timeout, those on the way out --graceful-timeout */
const bootBound: Bound = { ms: Number(settings.boot_timeout ?? 60) * 1000, setting: '--boot-timeout' }
const gracefulMsSetting = Number(settings.graceful_timeout ?? 30) * 1000

function runHook(name: string, bound: Bound, ...args: unknown[]): Promise<void> {
  return runBounded(`hook ${name}`, hooks[name], args, bound, log)
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
  await runHook('post_fork', bootBound, null, workerApi())
  openAccessLog()
  const cls: WorkerClass = workerClass(info.workerClass)
  booted = await cls.boot({
    settings,
    counters,
    log,
    acceptChanged: () => tracking?.update(),
    edge: {
      countBytes: Boolean(settings.accesslog),
      isDraining: () => draining,
      shed: () => shedding > 0 && shedding-- > 0,
      hooks: { pre_request: hooks.pre_request, post_request: hooks.post_request },
      onHookError: (name, err) => log('error', `hook ${name} raised: ${describeError(err)}`),
      onAppError: (err, req) => log('error', `error handling ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`),
      onRequestStart: requestStarted,
      onRequestEnd: requestEnded,
      onRejected: (socket, status, rawHead) => accessLog.rejected(socket, status, rawHead),
    },
  })
  await runHook('post_worker_init', bootBound, workerApi())
  send({ t: 'booted' })

  const server = await booted.createServer()
  // PROXY header and TLS handshake, when configured, before the class's server sees a connection
  const intake = createIntake(server, settings, { log, sslContext: hooks.ssl_context as SslContextHook | undefined })
  for (const l of info.listeners) {
    // the socket options http.Server gives its own connections: half-open is left to the
    // HTTP layer (a client's FIN aborts its request, so apps see 'close' and stop work), and
    // no Nagle delay on small answers
    const ln = net.createServer({ allowHalfOpen: true, pauseOnConnect: false, noDelay: true }, intake)
    await listenOnFd(ln, l.fd, Number(settings.backlog ?? 2048))
    listeners.push(ln)
  }
  tracking = trackConnections(server, listeners, counters, cls.acceptLimit(settings), (m) => log('warning', m), booted.pressure)
  send({ t: 'ready', traits: { ...cls.traits, connectionCap: cls.acceptLimit(settings) } })
  clearInterval(bootOrphanCheck)
  heartbeat()
}

/**
 * A request that blocks the loop must be named before it runs, or the timeout log cannot
 * say what was stuck. Announce the first request after each heartbeat and any request
 * after a quiet moment (no request started for QUIET_MS): at most a few messages a second
 * under load. Quiet was once measured from the worker's last message, which under load
 * announced a request every 10 ms: about 50 messages a second per worker, which cost the
 * master 3.5 µs and the worker about 2 µs per sync request (bench/results/README.md).
 */
function requestStarted(ref: ActiveRequest): void {
  const quietMs = ref.startedAt - lastStartedAt
  lastStartedAt = ref.startedAt
  // an idle worker's next beat may be a second away: figures are moving again, beat sooner
  const sooner = beatEveryMs > info.heartbeatMs
  if (sooner) scheduleBeat(info.heartbeatMs)
  if (!announcedSinceBeat || sooner || quietMs > QUIET_MS) {
    announcedSinceBeat = true
    send({ t: 'req', request: { method: ref.method, url: ref.url, startedAt: ref.startedAt }, nextInMs: sooner ? info.heartbeatMs : undefined })
  }
}

function requestEnded(ref: ActiveRequest, req: http.IncomingMessage, res: http.ServerResponse, bytes: number): void {
  if (accessLog.on) accessLog.request(ref.startedAt, req, res, bytes)
  if (maxRequests > 0 && counters.requests >= maxRequests && !retireAsked) {
    retireAsked = true
    send({ t: 'retire', requests: counters.requests })
  }
  if (draining) maybeExit()
}

let maxRequests = Number(settings.max_requests ?? 0)
if (maxRequests > 0) maxRequests += Math.floor(Math.random() * (Number(settings.max_requests_jitter ?? 0) + 1))
let retireAsked = false

/**
 * Heartbeats: every `heartbeatMs` (250 ms) while there is something new to say, every
 * `idleBeatMs` while the figures stay as they were (an idle worker then wakes every few
 * seconds instead of four times a second, and sends `alive` instead of its figures). Each beat tells the
 * master when the next one is due, so its "silent" threshold follows; the slow period is
 * at most a quarter of --timeout, so a silent worker is still caught within --timeout.
 * A request starting brings the next beat forward (requestStarted).
 */
const timeoutMs = Number(settings.timeout ?? 30) * 1000
const idleBeatMs = Math.max(info.heartbeatMs, Math.min(IDLE_BEAT_MS, timeoutMs > 0 ? timeoutMs / 4 : IDLE_BEAT_MS))
let beatTimer: NodeJS.Timeout | null = null
/** performance.now() when the next beat is due, and the period that was set for it */
let beatDue = 0
let beatEveryMs = 0
/** the figures of the last `hb`, to tell whether the next has anything new */
let lastFigures = ''

function scheduleBeat(ms: number): void {
  if (beatTimer) clearTimeout(beatTimer)
  beatEveryMs = ms
  beatDue = performance.now() + ms
  beatTimer = setTimeout(heartbeat, ms)
  beatTimer.unref()
}

function heartbeat(): void {
  // a heartbeat that runs late was held up by a stall: it counts even if the loop-lag
  // sampler slept through it (below its own resolution, a late timer is noise)
  const late = beatEveryMs ? performance.now() - beatDue : 0
  if (late >= LATE_BEAT_MS) counters.noteLate(late)
  // the master is gone but the IPC channel did not say so (see leaveOrphaned)
  if (process.ppid !== info.masterPid) leaveOrphaned()
  lastBeat = Date.now()
  announcedSinceBeat = false
  const beat = counters.beat()
  if (booted) beat.stats = booted.figures(beat.stats)
  if (shedding > 0) beat.stats.shedding = shedding
  const { completed, durations, ...figures } = beat.stats
  // a loop-lag sampler that just woke (the loop worked without a request) is news too: the
  // next beats come fast until it sleeps again, rather than leaving it on for a slow period
  const key = JSON.stringify(figures) + (counters.loopSampling ? '+' : '')
  // a loop lag still in its one-second window will change as it ages out: not quiet yet
  const quiet = key === lastFigures && figures.loopLagMs === 0 && completed === 0 && beat.spans.length === 0 && durations.length === 0
  lastFigures = key
  scheduleBeat(quiet ? idleBeatMs : info.heartbeatMs)
  if (quiet) send({ t: 'alive', nextInMs: beatEveryMs })
  else send({ t: 'hb', ...beat, nextInMs: beatEveryMs })
}

// -------------------------------------------------------------- draining
let drainDeadline: NodeJS.Timeout | null = null
/** when the graceful period of a drain ends: the hooks and the app's close() on the way out share what is left of it */
let gracefulUntil = 0
let workerInt: Promise<void> = Promise.resolve()
function drain(reason: string, gracefulMs: number): void {
  if (draining) return
  draining = true
  gracefulUntil = Date.now() + gracefulMs
  log('debug', `draining (${reason}), ${counters.inFlight} requests in flight, ${tracking?.sockets.size ?? 0} connections open`)
  workerInt = runHook('worker_int', { ms: gracefulMs, setting: '--graceful-timeout' }, workerApi())
  for (const ln of listeners) ln.close()
  // Give up waiting after the graceful timeout: what still runs is cut off. Upgraded
  // connections still open then get a last word (endUpgraded), and a moment to send it.
  drainDeadline = setTimeout(() => {
    const open = endUpgraded(tracking?.sockets ?? [])
    setTimeout(() => exit(0, `graceful timeout after ${gracefulMs} ms (${counters.inFlight} requests cut off, ${open} upgraded connections closed)`), open ? 200 : 0).unref()
  }, gracefulMs)
  drainDeadline.unref()
  closeIdleLoop()
  maybeExit()
}

/** Close kept-alive connections once idle for a moment, as the worker class lets go of them. */
function closeIdleLoop(): void {
  if (!tracking) return
  booted?.closeIdle(tracking.sockets)
  maybeExit()
  setTimeout(closeIdleLoop, 50).unref()
}

function maybeExit(): void {
  // open(): a connection still in its TLS handshake is not the server's yet, but must not be cut
  if (draining && counters.inFlight === 0 && (tracking?.open() ?? 0) === 0) exit(0, 'drained')
}

/**
 * The way out, once the last request is done (or cut off): worker_int's end, the app's own
 * close(), then worker_exit, all within what is left of the graceful period (at least half a
 * second, inside the master's backstop of graceful timeout + 1 s).
 */
let exiting = false
function exit(code: number, why: string): void {
  if (exiting) return
  exiting = true
  if (drainDeadline) clearTimeout(drainDeadline)
  log('debug', `exiting with code ${code}: ${why}`)
  const until = Math.max(gracefulUntil || Date.now() + gracefulMsSetting, Date.now() + 500)
  const left = (): Bound => ({ ms: until - Date.now(), setting: '--graceful-timeout' })
  void (async () => {
    await Promise.race([workerInt, new Promise((r) => setTimeout(r, Math.max(0, left().ms)))])
    if (booted) {
      const app = booted
      await runBounded('app close()', async () => {
        const errors = await app.closeApp()
        if (errors.length) throw new Error(errors.join('\n'))
      }, [], left(), log)
    }
    await runHook('worker_exit', left(), null, workerApi())
    if (code === 0) send({ t: 'drained' })
    // Let the IPC message flush before leaving.
    setImmediate(() => process.exit(code))
  })()
}

// -------------------------------------------------------------- control
process.on('message', (m: MasterMessage) => {
  if (m.t === 'drain') drain(m.reason, m.gracefulTimeoutMs)
  else if (m.t === 'quit') exit(0, 'quit')
  else if (m.t === 'reopen-logs') openAccessLog()
  else if (m.t === 'shed' && tracking) {
    shedding = Math.min(m.count, tracking.sockets.size)
    log('debug', `rebalancing: giving back ${shedding} of ${tracking.sockets.size} kept-alive connections to the other workers`)
    // while the surplus reconnects, leave new connections to the other workers
    tracking.hold(500)
  }
})
process.on('SIGTERM', () => drain('SIGTERM', Number(settings.graceful_timeout ?? 30) * 1000))
process.on('SIGINT', () => process.exit(0))
process.on('SIGQUIT', () => process.exit(0))
process.on('SIGUSR1', () => openAccessLog())
process.on('SIGABRT', () => {
  // the master kills it for good 1 s later: worker_abort gets that long
  void runHook('worker_abort', { ms: 800, setting: 'the SIGKILL that follows SIGABRT' }, workerApi()).then(() => process.exit(134))
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
// While booting (no heartbeat yet), a slow poll of the parent pid; the heartbeat checks it after.
const bootOrphanCheck = setInterval(() => {
  if (process.ppid !== info.masterPid) leaveOrphaned()
}, 250)
bootOrphanCheck.unref()
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
