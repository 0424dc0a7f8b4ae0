/**
 * The arbiter: binds the sockets, spawns and supervises workers, and steers them on
 * signals or on calls from the control plane (both go through the same methods).
 *
 * Worker lifecycle, one record per process:
 *
 *   spawning --fork--> booting --{booted}--> (booting) --{ready}--> ready
 *       |                 |                                          |
 *       |                 `--- boot error / exit ----.                | drain (TTOU, HUP,
 *       |                                            v                | max-requests, TERM)
 *       `------------------ exit -------------->  exited  <-- exit -- draining
 *
 * Reconcile (every tick and after every event): workers of the current generation that
 * are alive, not draining and not retiring are "serving"; fewer than the target -> spawn
 * (with back-off after boot failures); more -> drain the oldest. A new worker reaching
 * `ready` is what allows one replaceable worker (old generation, or retiring after
 * max-requests) to drain: capacity never dips during a reload or a recycle.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { writeFileSync, unlinkSync, renameSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { ArbiterApi, ReexecOutcome, ReloadOutcome } from './api.js'
import { bindAll, listenerUrl, parseBind, type BindSpec, type BoundListener } from './binds.js'
import { spawnNewMaster, type InheritedListener, type LaunchContext, type NewMasterMessage } from './reexec.js'
import { workerSnapshot, stuckRequest, type WorkerRecord } from './worker-record.js'
import { RateWindow } from './rates.js'
import { PaddockError, describeError } from '../errors.js'
import { ErrorLog } from '../log/logger.js'
import { resolveConfig, settingInfos, normalize, type ResolvedConfig } from '../config/resolve.js'
import { specFor, coerceSetting } from '../config/validate.js'
import { tlsEnabled } from '../http/tls.js'
import { WORKER_ENV, type MasterMessage, type WorkerBootInfo, type WorkerMessage } from '../worker/ipc.js'
import {
  PROTOCOL_VERSION,
  type ArbiterSnapshot,
  type ArbiterState,
  type ControlEvent,
  type ReloadProgress,
  type SettingInfo,
  type StopMode,
  type UpgradeState,
  type WorkerClassInput,
  type WorkerClassName,
} from '../../shared/protocol.js'

/** how long a worker may take to give back connections before it is asked again */
const SHED_PATIENCE_MS = 3000

const TICK_MS = 250
/**
 * How far from the fair share of connections a worker may be before the arbiter moves some:
 * one below (1 - t) of it while another is above (1 + t). At 0.5 the first round could stop
 * with the new worker at a quarter of the connections after a respawn (asked for too few
 * on counts a heartbeat old), and a quarter was then also the point where nothing moved.
 */
const BALANCE_TOLERANCE = 0.2
const HEARTBEAT_MS = 250
const MAX_BOOT_FAILURES = 5
const KILL_AFTER_ABORT_MS = 1000
const STABLE_AFTER_MS = 2000

export interface ArbiterOptions {
  /** The worker entry to fork (default: dist/server/worker/main.js next to this file). */
  workerEntry?: string
  binderEntry?: string
  /** execArgv for workers (e.g. a TS loader in development). */
  execArgv?: string[]
  log?: ErrorLog
  /**
   * Listening sockets handed down by a previous master (USR2) or by systemd (LISTEN_FDS).
   * When given they are the listeners, and the bind setting is not used: clients already
   * connect to them, and changing addresses takes a restart, as with Gunicorn.
   */
  inherited?: { from: 'usr2' | 'systemd'; listeners: InheritedListener[] }
  /** How this master was started; without it USR2 is refused (an arbiter hosted in-process cannot re-exec). */
  launch?: LaunchContext
  /** In a master started by USR2: the old master's pid while it still runs, else null. */
  oldMasterPid?: () => number | null
}

/** The master a USR2 started, while it runs. */
interface ChildMaster {
  pid: number
  child: ChildProcess
  ready: boolean
  failure: string | null
}

interface ReloadState {
  progress: ReloadProgress
  resolve: (o: ReloadOutcome) => void
  failures: number
}

export class Arbiter implements ArbiterApi {
  config: ResolvedConfig
  readonly log: ErrorLog
  private readonly events = new EventEmitter()
  private readonly workers = new Map<number, WorkerRecord>()
  private listeners: BoundListener[] = []
  private state: ArbiterState = 'starting'
  private generation = 1
  private target: number
  private nextId = 1
  private startedAt = Date.now()
  private tickTimer: NodeJS.Timeout | null = null
  private bootFailures = 0
  private nextSpawnAt = 0
  private lastError: string | null = null
  private everReady = false
  private reloadState: ReloadState | null = null
  private reloadSeq = 0
  private holdSpawning = false
  private stopping: Promise<void> | null = null
  private readonly rates = new RateWindow()
  private lastBalance = 0
  /** when a worker last exited: connection counts reported before then are out of date */
  private lastExitAt = 0
  /** set by setApp: survives the config re-read of later reloads */
  private appOverride: string | null = null
  private readonly counters = { requests: 0, reloads: 0, workersSpawned: 0, workersExited: 0, workersKilled: 0, timeouts: 0 }
  private readonly workerEntry: string
  private readonly binderEntry: string
  private firstReady: { resolve: () => void; reject: (e: Error) => void } | null = null
  private childMaster: ChildMaster | null = null
  /** the worker target before WINCH, for an upgrade that is called off */
  private targetBeforeStopAll: number | null = null
  /** the pidfile this master wrote and owns: the pidfile setting, or `<pidfile>.oldbin` while a new master runs */
  private pidfilePath: string | null = null

  constructor(config: ResolvedConfig, private readonly options: ArbiterOptions = {}) {
    this.config = config
    this.target = Number(config.settings.workers)
    this.log = options.log ?? new ErrorLog(config.settings.errorlog as string, config.settings.loglevel as never)
    this.log.onLine((level, message, pid) => this.emit({ type: 'log', at: Date.now(), stream: 'error', level, pid, message }))
    this.workerEntry = options.workerEntry ?? fileURLToPath(new URL('../worker/main.js', import.meta.url))
    this.binderEntry = options.binderEntry ?? fileURLToPath(new URL('./binder-child.js', import.meta.url))
  }

  // ------------------------------------------------------------ public API

  get settingsValues(): Record<string, unknown> {
    return this.config.settings
  }

  get pid(): number {
    return process.pid
  }

  /** Bind, spawn the first generation, resolve once one worker is ready. */
  async start(): Promise<void> {
    const s = this.config.settings
    this.hook('on_starting', this)
    this.listeners = await bindAll(this.bindSpecs(), this.binderEntry, this.options.execArgv)
    for (const l of this.listeners) this.log.info(`Listening at: ${listenerUrl(l, tlsEnabled(s))} (${process.pid})`)
    this.log.info(`Using worker: ${this.workerClass()}`)
    if (s.pidfile) {
      writeFileSync(String(s.pidfile), `${process.pid}\n`)
      this.pidfilePath = String(s.pidfile)
    }
    this.setState('running')
    const ready = new Promise<void>((resolve, reject) => (this.firstReady = { resolve, reject }))
    this.tick()
    await ready
    this.hook('when_ready', this)
  }

  snapshot(): ArbiterSnapshot {
    const s = this.config.settings
    return {
      protocol: PROTOCOL_VERSION,
      at: Date.now(),
      pid: process.pid,
      name: String(s.proc_name ?? 'paddock'),
      state: this.state,
      startedAt: this.startedAt,
      app: String(this.config.app ?? ''),
      workerClass: this.workerClass(),
      targetWorkers: this.holdSpawning && this.target === 0 ? 0 : this.target,
      threads: Number(s.threads),
      workerConnections: Number(s.worker_connections),
      generation: this.generation,
      listeners: this.listeners.map((l) => ({ ...l.snapshot, tls: tlsEnabled(s) })),
      counters: { ...this.counters, requests: this.totalRequests() },
      workers: [...this.workers.values()].map(workerSnapshot),
      rates: this.rates.summary(),
      system: null,
      lastError: this.lastError,
      reload: this.reloadState ? { ...this.reloadState.progress } : null,
      load: null,
      upgrade: this.upgradeState(),
    }
  }

  private upgradeState(): UpgradeState {
    const oldMasterPid = this.options.oldMasterPid?.() ?? null
    const child = this.childMaster
    return {
      available: Boolean(this.options.launch) && !this.stopping && !child && oldMasterPid === null,
      newMasterPid: child?.pid ?? null,
      newMasterReady: child?.ready ?? false,
      oldMasterPid,
    }
  }

  onEvent(listener: (event: ControlEvent) => void): () => void {
    this.events.on('event', listener)
    return () => this.events.off('event', listener)
  }

  async reload(reason = 'HUP'): Promise<ReloadOutcome> {
    if (this.stopping) throw new PaddockError('PADDOCK_ERR_STATE', 'the server is stopping')
    if (this.reloadState) {
      // A second HUP during a reload restarts it against the newest configuration.
      this.finishReload({ ok: false, generation: this.generation, error: 'superseded by a newer reload' }, false)
    }
    if (reason === 'HUP') this.log.info('Handling signal: hup')
    try {
      if (this.config.argv.length || this.config.configFile) {
        const fresh = await resolveConfig(this.config.argv)
        // Settings changed through the control plane survive a reload.
        for (const [k, src] of Object.entries(this.config.sources)) {
          if (src === 'control') {
            fresh.settings[k] = this.config.settings[k]
            fresh.sources[k] = 'control'
          }
        }
        if (this.appOverride) fresh.app = this.appOverride
        this.applyConfig(fresh)
      }
    } catch (err) {
      const message = `reload aborted, configuration is invalid: ${describeError(err)}`
      this.log.error(message)
      return { ok: false, generation: this.generation, error: message }
    }
    this.hook('on_reload', this)
    return this.beginRollingReplace(reason)
  }

  /**
   * Serve another app module: a reload whose new generation loads `app`. If it fails to
   * boot, the old generation keeps serving the old app and the change is undone.
   */
  async setApp(app: string): Promise<ReloadOutcome> {
    const before = { override: this.appOverride, app: this.config.app }
    this.appOverride = app
    this.config = { ...this.config, app }
    const out = await this.reload('app changed')
    if (!out.ok) {
      this.appOverride = before.override
      this.config = { ...this.config, app: before.app }
    }
    return out
  }

  addWorkers(n = 1): number {
    const old = this.target
    if (this.holdSpawning && this.target === 0) this.holdSpawning = false
    this.target += Math.max(1, Math.floor(n))
    this.nworkersChanged(old)
    this.tick()
    return this.target
  }

  removeWorkers(n = 1): number {
    const old = this.target
    this.target = Math.max(1, this.target - Math.max(1, Math.floor(n)))
    this.nworkersChanged(old)
    this.tick()
    return this.target
  }

  scaleTo(n: number): number {
    if (!Number.isInteger(n) || n < 1) throw new PaddockError('PADDOCK_ERR_INVALID_VALUE', `worker count must be a whole number of at least 1, got ${n}`)
    const old = this.target
    this.holdSpawning = false
    this.target = n
    this.nworkersChanged(old)
    this.tick()
    return this.target
  }

  async setWorkerClass(workerClass: WorkerClassInput, sizes: { threads?: number; workerConnections?: number } = {}): Promise<ReloadOutcome> {
    const changes: [string, unknown][] = [['worker_class', workerClass]]
    if (sizes.threads !== undefined) changes.push(['threads', sizes.threads])
    if (sizes.workerConnections !== undefined) changes.push(['worker_connections', sizes.workerConnections])
    const next = { ...this.config.settings }
    for (const [name, value] of changes) next[name] = coerceSetting(specFor(name), value, 'control')
    if (next.worker_class === 'gthread' && sizes.threads === undefined && Number(next.threads) < 2) next.threads = 4
    if (next.worker_class !== 'gthread' && sizes.threads === undefined) next.threads = 1
    normalize(next)
    this.recordChanges(next)
    return this.beginRollingReplace(`worker class -> ${next.worker_class}`)
  }

  killWorker(pid: number, signal = 'SIGTERM'): void {
    const w = this.workers.get(pid)
    if (!w || w.state === 'exited') throw new PaddockError('PADDOCK_ERR_NO_SUCH_WORKER', `no live worker with pid ${pid}`)
    try {
      process.kill(pid, signal as NodeJS.Signals)
    } catch (err) {
      throw new PaddockError('PADDOCK_ERR_INVALID_VALUE', `cannot send ${signal} to ${pid}: ${describeError(err)}`)
    }
    this.counters.workersKilled++
  }

  reopenLogs(): void {
    this.log.reopen(this.config.settings.errorlog as string)
    for (const w of this.live()) this.sendTo(w, { t: 'reopen-logs' })
    this.log.info('Reopened log files')
  }

  async stopWorkers(): Promise<void> {
    this.holdSpawning = true
    const old = this.target
    if (old > 0) this.targetBeforeStopAll = old
    this.target = 0
    this.nworkersChanged(old)
    const gone = this.live().map((w) => this.drain(w, 'WINCH: stop all workers'))
    await Promise.all(gone)
  }

  stop(mode: StopMode = 'graceful'): Promise<void> {
    if (this.stopping) return this.stopping
    this.stopping = this.doStop(mode)
    return this.stopping
  }

  settings(): SettingInfo[] {
    return settingInfos(this.config)
  }

  /**
   * USR2: start a new master on the same listening sockets, with its own workers. Both
   * masters serve until the operator stops one: TERM (or WINCH, then TERM) to this one
   * finishes the switch, TERM to the new one goes back. Resolves once the new master is
   * ready, or with why there is none (also logged): this master serves on either way.
   */
  reexec(): Promise<ReexecOutcome> {
    const refuse = (why: string): Promise<ReexecOutcome> => {
      this.log.warning(`USR2 ignored: ${why}`)
      return Promise.resolve({ ok: false, error: why })
    }
    if (this.stopping) return refuse('this master is stopping')
    if (this.childMaster) return refuse(`a new master (pid ${this.childMaster.pid}) is already running; send TERM to this master (pid ${process.pid}) to finish the switch, or to ${this.childMaster.pid} to cancel it`)
    const oldPid = this.options.oldMasterPid?.() ?? null
    if (oldPid !== null) return refuse(`this master was started by USR2 and the old master (pid ${oldPid}) still runs; send it TERM first`)
    const launch = this.options.launch
    if (!launch) return refuse('this master was not started by the paddock command, so it cannot start another one')
    this.log.info('Handling signal: usr2')
    // Rename first, so that the new master's pidfile never overwrites ours.
    const pidfile = this.config.settings.pidfile ? String(this.config.settings.pidfile) : null
    if (pidfile && this.pidfilePath === pidfile) {
      try {
        renameSync(pidfile, `${pidfile}.oldbin`)
        this.pidfilePath = `${pidfile}.oldbin`
      } catch (err) {
        this.log.warning(`could not rename the pidfile ${pidfile} to ${pidfile}.oldbin: ${describeError(err)}`)
      }
    }
    let child: ChildProcess
    try {
      child = spawnNewMaster(launch, this.listeners.map((l) => ({ fd: l.fd, bind: l.spec.bind })))
    } catch (err) {
      this.restorePidfile()
      return refuse(`could not start a new master: ${describeError(err)}`)
    }
    let settle!: (o: ReexecOutcome) => void
    const outcome = new Promise<ReexecOutcome>((resolve) => (settle = resolve))
    const m: ChildMaster = { pid: child.pid ?? -1, child, ready: false, failure: null }
    this.childMaster = m
    this.log.info(`Starting a new master (pid ${m.pid}) on the same sockets${pidfile ? `; this master's pidfile is now ${pidfile}.oldbin` : ''}`)
    child.on('message', (msg: NewMasterMessage) => {
      if (msg?.t === 'paddock:master-ready') {
        m.ready = true
        settle({ ok: true, pid: m.pid })
        this.log.info(`New master (pid ${m.pid}) is ready: both masters serve. Send TERM (or WINCH, then TERM) to this master (pid ${process.pid}) to finish the switch, or TERM to ${m.pid} to go back`)
      } else if (msg?.t === 'paddock:master-failed') m.failure = msg.error
    })
    child.on('error', (err) => {
      m.failure ??= describeError(err)
    })
    // 'close', not 'exit': a last message on the channel is read before it.
    child.on('close', (code, signal) => {
      if (this.childMaster !== m) return
      this.childMaster = null
      // before the log line: whoever reads the log then finds the pidfile right
      this.restorePidfile()
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
      if (!m.ready) {
        const failed = `failed to start: ${m.failure ?? `it ${how}`}; this master keeps serving`
        settle({ ok: false, error: `new master (pid ${m.pid}) ${failed}` })
        this.log.error(`New master (pid ${m.pid}) ${failed}`)
      }
      else this.log.warning(`New master (pid ${m.pid}) ${how}; this master (pid ${process.pid}) serves alone again`)
    })
    return outcome
  }

  /**
   * Call off a USR2: this master serves alone again. If WINCH had stopped its workers they
   * start first, and the new master is stopped (TERM: it drains) only once they are ready,
   * so that nobody is left to refuse a connection. Resolves when the new master has exited.
   */
  async cancelReexec(): Promise<ReexecOutcome> {
    const m = this.childMaster
    if (!m) return { ok: false, error: 'no new master is running' }
    if (this.stopping) return { ok: false, error: 'this master is stopping' }
    if (this.holdSpawning && this.target === 0) {
      const want = this.targetBeforeStopAll ?? Math.max(1, Number(this.config.settings.workers))
      this.log.info(`Calling off the new master (pid ${m.pid}): starting ${want} worker${want === 1 ? '' : 's'} here first`)
      this.addWorkers(want)
      const ready = await this.until(() => this.serving().filter((w) => w.state === 'ready').length >= want, Number(this.config.settings.timeout) * 1000 + 5000)
      if (!ready) return { ok: false, error: `this master's workers did not become ready; the new master (pid ${m.pid}) keeps serving` }
    } else this.log.info(`Calling off the new master (pid ${m.pid})`)
    const closed = new Promise<void>((resolve) => {
      if (m.child.exitCode !== null || m.child.signalCode !== null) resolve()
      else m.child.once('close', () => resolve())
    })
    try {
      process.kill(m.pid, 'SIGTERM')
    } catch {
      // gone already
    }
    await closed
    return { ok: true, pid: m.pid }
  }

  /** Resolves true once `done()` holds (checked on every event), false after `ms`. */
  private until(done: () => boolean, ms: number): Promise<boolean> {
    if (done()) return Promise.resolve(true)
    return new Promise((resolve) => {
      const finish = (v: boolean) => {
        clearTimeout(timer)
        off()
        resolve(v)
      }
      const timer = setTimeout(() => finish(done()), ms)
      const off = this.onEvent(() => {
        if (done()) finish(true)
      })
    })
  }

  async setSetting(name: string, value: unknown): Promise<SettingInfo> {
    const spec = specFor(name)
    const next = { ...this.config.settings, [name]: coerceSetting(spec, value, 'control') }
    normalize(next)
    this.recordChanges(next)
    if (name === 'workers') this.scaleTo(Number(next.workers))
    else if (name === 'loglevel') this.log.setLevel(next.loglevel as never)
    else if (spec.apply === 'reload') void this.beginRollingReplace(`setting ${name} changed`)
    return this.settings().find((s) => s.name === name)!
  }

  workerPids(): number[] {
    return this.live().map((w) => w.pid)
  }

  // ------------------------------------------------------------ internals

  private bindSpecs(): BindSpec[] {
    const s = this.config.settings
    const backlog = Number(s.backlog)
    const inherited = this.options.inherited
    if (!inherited?.listeners.length) return (s.bind as string[]).map((b) => parseBind(b, backlog))
    const binds = inherited.listeners.map((l) => l.bind)
    const from = inherited.from === 'usr2' ? 'the previous master' : 'systemd (LISTEN_FDS)'
    const configured = s.bind as string[]
    const differs = inherited.from === 'systemd' || JSON.stringify([...configured].sort()) !== JSON.stringify([...binds].sort())
    this.log.info(`Using ${binds.length} listening socket${binds.length === 1 ? '' : 's'} from ${from}${differs ? `; bind ${configured.join(', ')} is not used (changing addresses takes a restart)` : ''}`)
    return inherited.listeners.map((l) => ({ ...parseBind(l.bind, backlog), inheritedFd: l.fd }))
  }

  /** The new master is gone (or never started): this one is the service's master again. */
  private restorePidfile(): void {
    const pidfile = this.config.settings.pidfile ? String(this.config.settings.pidfile) : null
    if (!pidfile || this.pidfilePath === pidfile || this.stopping) return
    try {
      writeFileSync(pidfile, `${process.pid}\n`)
      if (this.pidfilePath) unlinkSync(this.pidfilePath)
      this.pidfilePath = pidfile
    } catch (err) {
      this.log.warning(`could not restore the pidfile ${pidfile}: ${describeError(err)}`)
    }
  }

  private workerClass(): WorkerClassName {
    return this.config.settings.worker_class as WorkerClassName
  }

  private emit(event: ControlEvent): void {
    this.events.emit('event', event)
  }

  private setState(state: ArbiterState, error?: string): void {
    if (this.state === state) return
    this.state = state
    this.emit({ type: 'arbiter.state', at: Date.now(), state, error })
  }

  private hook(name: string, ...args: unknown[]): void {
    const fn = this.config.hooks[name as keyof ResolvedConfig['hooks']]
    if (!fn) return
    try {
      const r = fn(...args)
      if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).catch((err) => this.log.error(`hook ${name} raised: ${describeError(err)}`))
    } catch (err) {
      this.log.error(`hook ${name} raised: ${describeError(err)}`)
    }
  }

  private nworkersChanged(old: number): void {
    if (old !== this.target) this.hook('nworkers_changed', this, this.target, old)
  }

  private applyConfig(fresh: ResolvedConfig): void {
    this.recordChanges(fresh.settings, fresh)
    this.target = Number(fresh.settings.workers)
    this.holdSpawning = false
    this.log.setLevel(fresh.settings.loglevel as never)
  }

  private recordChanges(next: Record<string, unknown>, fresh?: ResolvedConfig): void {
    const changes = Object.keys(next)
      .filter((k) => JSON.stringify(next[k]) !== JSON.stringify(this.config.settings[k]))
      .map((name) => ({ name, from: this.config.settings[name], to: next[name] }))
    if (fresh) this.config = fresh
    else {
      const sources = { ...this.config.sources }
      for (const c of changes) sources[c.name] = 'control'
      this.config = { ...this.config, settings: next, sources }
    }
    if (changes.length) this.emit({ type: 'config.changed', at: Date.now(), changes })
  }

  private live(): WorkerRecord[] {
    return [...this.workers.values()].filter((w) => w.state !== 'exited')
  }

  private totalRequests(): number {
    return this.counters.requests + this.live().reduce((a, w) => a + (w.stats?.requests ?? 0), 0)
  }

  private sendTo(w: WorkerRecord, m: MasterMessage): void {
    if (w.child.connected) w.child.send(m, (err) => void err)
  }

  private beginRollingReplace(reason: string): Promise<ReloadOutcome> {
    const from = this.generation
    this.generation++
    this.counters.reloads++
    this.bootFailures = 0
    this.nextSpawnAt = 0
    if (this.state === 'errored') this.lastError = null
    this.holdSpawning = false
    const toDrain = this.live().filter((w) => w.state !== 'draining').length
    const progress: ReloadProgress = { id: ++this.reloadSeq, reason, fromGeneration: from, toGeneration: this.generation, ready: 0, wanted: this.target, drained: 0, toDrain, startedAt: Date.now() }
    this.setState('reloading')
    this.emit({ type: 'reload.started', at: Date.now(), reload: { ...progress } })
    this.log.info(`Reload ${progress.id} (${reason}): generation ${from} -> ${this.generation}, ${this.target} workers of class ${this.workerClass()}`)
    return new Promise<ReloadOutcome>((resolve) => {
      this.reloadState = { progress, resolve, failures: 0 }
      this.tick()
    })
  }

  private finishReload(outcome: ReloadOutcome, emitEvents = true): void {
    const r = this.reloadState
    if (!r) return
    this.reloadState = null
    if (emitEvents) {
      if (outcome.ok) {
        this.emit({ type: 'reload.done', at: Date.now(), reload: { ...r.progress }, ms: Date.now() - r.progress.startedAt })
        this.log.info(`Reload ${r.progress.id} done in ${Date.now() - r.progress.startedAt} ms`)
      } else {
        this.emit({ type: 'reload.rolledback', at: Date.now(), reload: { ...r.progress }, error: outcome.error ?? 'failed' })
      }
    }
    if (this.state === 'reloading') this.setState('running')
    r.resolve(outcome)
  }

  private rollBack(error: string): void {
    const r = this.reloadState
    if (!r) return
    const failedGen = this.generation
    this.generation = r.progress.fromGeneration
    // The failed generation's workers that are not serving are stopped; the old ones were
    // never drained before a new one was ready, so the service keeps its capacity.
    for (const w of this.live()) {
      if (w.generation === failedGen && w.state !== 'ready') this.terminate(w, 'SIGKILL', 'reload rolled back')
      else if (w.generation === failedGen && w.state === 'ready') w.generation = this.generation
    }
    this.holdSpawning = true
    this.lastError = `reload failed, the previous generation keeps serving: ${error}`
    this.log.error(this.lastError)
    this.finishReload({ ok: false, generation: this.generation, error })
  }

  private tick(): void {
    if (this.tickTimer) clearTimeout(this.tickTimer)
    this.tickTimer = null
    if (this.state === 'stopped') return
    try {
      this.checkProcessTable()
      this.checkTimeouts()
      this.reconcile()
      this.checkReload()
      this.balance()
    } catch (err) {
      this.log.error(`arbiter loop: ${(err as Error).stack ?? err}`)
    }
    this.tickTimer = setTimeout(() => this.tick(), TICK_MS)
  }

  /**
   * Kept-alive connections stay with the worker that accepted them. After a respawn (or a
   * TTIN) the new worker would idle while the old ones keep every connection, as with Node
   * cluster and Gunicorn gthread. While one worker holds less than 80% of the fair share, a
   * worker above 120% of it is asked to close its surplus after their current responses;
   * clients reconnect, and the kernel hands the new connections to whoever accepts, mostly
   * the idle worker (the crowded one holds off accepting meanwhile).
   */
  private balance(): void {
    const now = Date.now()
    if (now - this.lastBalance < 500 || this.reloadState || this.stopping) return
    // a worker that just became ready has no heartbeat yet: it holds no connections
    const ready = this.live().filter((w) => w.state === 'ready' && w.workerClass !== 'sync')
    if (ready.length < 2) return
    // Counts from before the last exit miss the dead worker's clients, which reconnect to
    // the survivors at once: acting on them would ask for too few back (measured: 6 of 24
    // asked where 12 were due, leaving the new worker at its 25% floor). Wait, without the
    // pause between two rounds, for a heartbeat from each worker that has sent one since.
    if (ready.some((w) => w.lastHeartbeat !== null && w.lastHeartbeat < this.lastExitAt)) return
    this.lastBalance = now
    const conns = (w: WorkerRecord) => w.stats?.connections ?? 0
    const total = ready.reduce((a, w) => a + conns(w), 0)
    const share = total / ready.length
    if (total < ready.length * 2) return
    // Only towards a worker with room: between two saturated gthread workers (every thread
    // busy, requests waiting) moving connections only adds reconnects.
    const hasRoom = (w: WorkerRecord) => !w.stats || (w.stats.queued === 0 && (w.stats.threadsTotal <= 1 || w.stats.threadsBusy < w.stats.threadsTotal))
    if (!ready.some((w) => conns(w) < share * (1 - BALANCE_TOLERANCE) && hasRoom(w))) return
    for (const w of ready) {
      const surplus = Math.floor(conns(w) - share)
      if (!(conns(w) > share * (1 + BALANCE_TOLERANCE) && surplus > 0)) continue
      // Still giving back what it was asked last time (each connection leaves only after its
      // current response, which can take seconds under load): asking again would move far
      // too many, and the other worker would end up the crowded one (measured: 76/24 ->
      // 34/66 with /io?ms=100 on gthread).
      // It says in its heartbeats how many it still has to give back.
      const asked = w.shed
      const stillShedding = asked !== undefined && (w.lastHeartbeat ?? 0) > asked.at && (w.stats?.shedding ?? 0) > 0
      if (asked && stillShedding && now - asked.at < SHED_PATIENCE_MS) continue
      w.shed = { at: now }
      this.sendTo(w, { t: 'shed', count: surplus })
    }
  }

  private serving(): WorkerRecord[] {
    return this.live().filter((w) => w.generation === this.generation && w.state !== 'draining' && !w.retiring)
  }

  private reconcile(): void {
    if (this.stopping || this.state === 'errored') return
    const serving = this.serving()
    if (serving.length < this.target && !this.holdSpawning) {
      if (Date.now() < this.nextSpawnAt) return
      // During a reload everything is spawned at once; otherwise one at a time per tick
      // after a failure, so a crash loop cannot spin.
      const n = this.bootFailures > 0 ? 1 : this.target - serving.length
      for (let i = 0; i < n; i++) this.spawn()
    } else if (serving.length > this.target) {
      const extra = serving
        .filter((w) => w.state === 'ready' || w.state === 'booting' || w.state === 'spawning')
        .sort((a, b) => a.spawnedAt - b.spawnedAt)
        .slice(0, serving.length - this.target)
      for (const w of extra) void this.drain(w, 'TTOU: fewer workers')
    }
  }

  private checkReload(): void {
    const r = this.reloadState
    if (!r) return
    const ready = this.live().filter((w) => w.generation === this.generation && w.state === 'ready').length
    const leftOld = this.live().filter((w) => w.generation !== this.generation).length
    const changed = r.progress.ready !== ready
    r.progress.ready = Math.min(ready, r.progress.wanted)
    r.progress.drained = r.progress.toDrain - leftOld
    if (changed) this.emit({ type: 'reload.progress', at: Date.now(), reload: { ...r.progress } })
    if (ready >= this.target && leftOld === 0) this.finishReload({ ok: true, generation: this.generation })
  }

  private spawn(): WorkerRecord {
    const s = this.config.settings
    const id = this.nextId++
    const workerClass = this.workerClass()
    const info: WorkerBootInfo = {
      id,
      generation: this.generation,
      workerClass,
      listeners: this.listeners.map((l, i) => ({ fd: 4 + i, kind: l.snapshot.kind, bind: l.spec.bind })),
      configFile: this.config.configFile,
      settings: { ...s, app: this.config.app },
      heartbeatMs: HEARTBEAT_MS,
      masterPid: process.pid,
    }
    const env: NodeJS.ProcessEnv = { ...process.env, [WORKER_ENV]: JSON.stringify(info), PADDOCK_WORKER_CLASS: workerClass, PADDOCK_GENERATION: String(this.generation) }
    for (const kv of (s.raw_env as string[]) ?? []) {
      const i = kv.indexOf('=')
      env[kv.slice(0, i)] = kv.slice(i + 1)
    }
    const record = { id, generation: this.generation, workerClass } as WorkerRecord
    this.hook('pre_fork', this, record)
    const child = fork(this.workerEntry, [], {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc', ...this.listeners.map((l) => l.fd)],
      env,
      execArgv: this.options.execArgv ?? [],
      cwd: s.chdir ? String(s.chdir) : undefined,
    })
    const w: WorkerRecord = Object.assign(record, {
      pid: child.pid ?? -1,
      child,
      state: 'booting' as const,
      spawnedAt: Date.now(),
      readyAt: null,
      lastHeartbeat: null,
      stats: null,
      inFlight: [],
      lastStarted: null,
      retiring: false,
      reason: null,
      expectedExit: false,
      abortedAt: null,
      exitCode: null,
      exitSignal: null,
      bootError: null,
      workerConnections: Number(s.worker_connections),
      ...goneSignal(),
    })
    this.counters.workersSpawned++
    if (w.pid > 0) this.workers.set(w.pid, w)
    this.emit({ type: 'worker.spawned', at: Date.now(), pid: w.pid, generation: w.generation, workerClass })
    this.log.info(`Booting worker with pid: ${w.pid} (generation ${w.generation}, ${workerClass})`)
    child.on('message', (m: WorkerMessage) => this.onWorkerMessage(w, m))
    child.on('exit', (code, signal) => this.onWorkerExit(w, code, signal))
    child.on('error', (err) => this.log.error(`worker ${w.pid}: ${err.message}`))
    return w
  }

  private onWorkerMessage(w: WorkerRecord, m: WorkerMessage): void {
    switch (m.t) {
      case 'booted':
        this.emit({ type: 'worker.booted', at: Date.now(), pid: w.pid, generation: w.generation })
        break
      case 'ready': {
        if (w.state !== 'booting') break
        w.state = 'ready'
        w.readyAt = Date.now()
        w.lastHeartbeat = Date.now()
        this.everReady = true
        // a new worker takes its share of kept-alive connections at once
        this.lastBalance = 0
        if (this.state === 'errored') this.setState('running')
        this.log.debug(`Worker ready (pid: ${w.pid}) in ${w.readyAt - w.spawnedAt} ms`)
        this.emit({ type: 'worker.ready', at: Date.now(), pid: w.pid, generation: w.generation, bootMs: w.readyAt - w.spawnedAt })
        this.firstReady?.resolve()
        this.firstReady = null
        this.replaceOne()
        this.tick()
        break
      }
      case 'hb':
        w.lastHeartbeat = Date.now()
        w.stats = m.stats
        w.inFlight = m.inFlight
        w.lastStarted = null
        this.rates.add(m.stats.completed, m.stats.durations)
        if (m.spans.length || m.droppedSpans) this.emit({ type: 'spans', at: Date.now(), spans: m.spans, dropped: m.droppedSpans })
        break
      case 'req':
        w.lastStarted = m.request
        break
      case 'retire':
        if (!w.retiring && w.state === 'ready') {
          w.retiring = true
          w.reason = `max requests reached (${m.requests})`
          this.log.info(`Worker ${w.pid} reached max requests (${m.requests}): starting its replacement first`)
          this.tick()
        }
        break
      case 'boot-error':
        w.bootError = m.error
        this.log.error(`Worker ${w.pid} failed to boot: ${m.error}`)
        break
      case 'log':
        this.log.log(m.level, m.message, w.pid)
        break
      case 'access':
        this.emit({ type: 'log', at: Date.now(), stream: 'access', level: 'info', pid: w.pid, message: m.line })
        break
      case 'drained':
        break
    }
  }

  /** A new worker is ready: one replaceable worker (old generation first, then retiring) may drain. */
  private replaceOne(): void {
    const replaceable = this.live()
      .filter((w) => w.state === 'ready' && (w.generation !== this.generation || w.retiring))
      .sort((a, b) => (a.generation !== this.generation ? 0 : 1) - (b.generation !== this.generation ? 0 : 1) || a.spawnedAt - b.spawnedAt)
    const ready = this.live().filter((w) => w.state === 'ready' && w.generation === this.generation && !w.retiring).length
    const surplus = ready + replaceable.length - this.target
    for (const w of replaceable.slice(0, Math.max(0, Math.min(surplus, replaceable.length)))) {
      void this.drain(w, w.generation !== this.generation ? `replaced by generation ${this.generation}` : (w.reason ?? 'recycled'))
    }
  }

  private drain(w: WorkerRecord, reason: string): Promise<void> {
    const exited = w.gone
    if (w.state === 'draining' || w.state === 'exited') return exited
    if (w.state !== 'ready') {
      this.terminate(w, 'SIGKILL', reason)
      return exited
    }
    w.state = 'draining'
    w.reason = reason
    w.expectedExit = true
    this.emit({ type: 'worker.draining', at: Date.now(), pid: w.pid, generation: w.generation, reason })
    const graceMs = Number(this.config.settings.graceful_timeout) * 1000
    this.sendTo(w, { t: 'drain', reason, gracefulTimeoutMs: graceMs })
    // The worker enforces the graceful timeout itself; this is the backstop.
    const backstop = setTimeout(() => this.terminate(w, 'SIGKILL', `still alive ${graceMs + 2000} ms after drain`), graceMs + 2000)
    backstop.unref()
    return exited
  }

  private terminate(w: WorkerRecord, signal: NodeJS.Signals, reason: string): void {
    if (w.state === 'exited') return
    w.expectedExit = true
    w.reason ??= reason
    try {
      process.kill(w.pid, signal)
    } catch {
      // already gone
    }
  }

  private onWorkerExit(w: WorkerRecord, code: number | null, signal: NodeJS.Signals | null): void {
    // recorded once: the child's exit event may follow the process-table check
    if (w.state === 'exited') return
    w.markGone()
    this.lastExitAt = Date.now()
    const wasReady = w.readyAt !== null
    const prevState = w.state
    w.state = 'exited'
    w.exitCode = code
    w.exitSignal = signal
    this.counters.workersExited++
    this.counters.requests += w.stats?.requests ?? 0
    if (w.stats) w.stats = { ...w.stats, requests: 0 }
    const reason = w.bootError ? `boot failed: ${w.bootError}` : (w.reason ?? (signal ? `killed by ${signal}` : `exited with code ${code}`))
    w.reason = reason
    this.emit({ type: 'worker.exited', at: Date.now(), pid: w.pid, generation: w.generation, code, signal, reason, expected: w.expectedExit })
    if (w.expectedExit) this.log.info(`Worker exiting (pid: ${w.pid}): ${reason}`)
    else this.log.warning(`Worker (pid: ${w.pid}) exited unexpectedly: ${reason}`)
    this.hook('child_exit', this, w)
    // Keep exited records briefly so the dashboard can show the exit, then forget them.
    setTimeout(() => this.workers.delete(w.pid), 10_000).unref()

    if (!wasReady && !w.expectedExit && prevState !== 'draining') this.onBootFailure(w, reason, code)
    else if (!w.expectedExit && wasReady && w.readyAt && Date.now() - w.readyAt < STABLE_AFTER_MS) this.onBootFailure(w, reason, code, Date.now() - w.readyAt)
    this.tick()
  }

  /** `upMs`: the worker had been ready that long (dying that soon counts toward a crash loop too) */
  private onBootFailure(w: WorkerRecord, reason: string, code: number | null, upMs?: number): void {
    this.bootFailures++
    if (this.reloadState && w.generation === this.generation) {
      this.rollBack(reason)
      return
    }
    if (!this.everReady && (code === 4 || code === 3) && this.firstReady) {
      // The very first generation cannot load the app: fail fast, like Gunicorn, with the cause.
      this.lastError = reason
      this.setState('errored', reason)
      this.firstReady.reject(new PaddockError('PADDOCK_ERR_BOOT', reason))
      this.firstReady = null
      return
    }
    if (this.bootFailures >= MAX_BOOT_FAILURES) {
      this.lastError = `workers keep failing (${this.bootFailures} times in a row), no more respawns until a reload: ${reason}`
      this.log.critical(this.lastError)
      this.setState('errored', this.lastError)
      this.firstReady?.reject(new PaddockError('PADDOCK_ERR_BOOT', reason))
      this.firstReady = null
      return
    }
    const backoff = Math.min(100 * 2 ** this.bootFailures, 10_000)
    this.nextSpawnAt = Date.now() + backoff
    const what = upMs === undefined ? 'Worker boot failure' : `Worker died ${(upMs / 1000).toFixed(1)} s after it was ready, counted as a crash`
    this.log.warning(`${what} ${this.bootFailures}/${MAX_BOOT_FAILURES} in a row; next spawn in ${backoff} ms`)
  }

  /**
   * The table must match the OS: a pid we list that no longer exists (its exit event lost,
   * or reaped by someone else) is treated as exited so that it is replaced.
   */
  private checkProcessTable(): void {
    for (const w of this.live()) {
      try {
        process.kill(w.pid, 0)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') continue
        this.log.warning(`Worker ${w.pid} is listed but no longer exists: marking it exited`)
        this.onWorkerExit(w, null, null)
      }
    }
  }

  private checkTimeouts(): void {
    const now = Date.now()
    // A worker that stays up for a while ends a run of boot failures; one that is ready and
    // dies at once is part of the crash loop.
    if (this.bootFailures > 0 && this.live().some((w) => w.state === 'ready' && w.readyAt && now - w.readyAt > STABLE_AFTER_MS)) this.bootFailures = 0
    const timeoutMs = Number(this.config.settings.timeout) * 1000
    const bootMs = Number(this.config.settings.boot_timeout) * 1000
    for (const w of this.live()) {
      if (w.abortedAt) {
        if (now - w.abortedAt > KILL_AFTER_ABORT_MS) this.terminate(w, 'SIGKILL', w.reason ?? 'timeout')
        continue
      }
      if (w.state === 'booting' && now - w.spawnedAt > bootMs) {
        w.bootError = `not ready after boot_timeout ${bootMs / 1000} s`
        w.abortedAt = now
        this.terminate(w, 'SIGKILL', w.bootError)
        w.expectedExit = false
        continue
      }
      if (timeoutMs > 0 && (w.state === 'ready' || w.state === 'draining') && w.lastHeartbeat && now - w.lastHeartbeat > timeoutMs) {
        const request = stuckRequest(w)
        const silentMs = now - w.lastHeartbeat
        const what = request ? `while running ${request.method} ${request.url} for ${((now - request.startedAt) / 1000).toFixed(1)} s` : 'with no request in flight'
        w.reason = `WORKER TIMEOUT: silent for ${(silentMs / 1000).toFixed(1)} s ${what}`
        this.log.critical(`WORKER TIMEOUT (pid:${w.pid}) silent for ${(silentMs / 1000).toFixed(1)} s ${what}`)
        this.counters.timeouts++
        this.emit({ type: 'worker.timeout', at: now, pid: w.pid, generation: w.generation, silentMs, request })
        w.abortedAt = now
        w.expectedExit = true
        try {
          process.kill(w.pid, 'SIGABRT')
        } catch {
          // gone already
        }
      }
    }
  }

  private async doStop(mode: StopMode): Promise<void> {
    this.setState('stopping')
    if (this.reloadState) this.finishReload({ ok: false, generation: this.generation, error: 'server stopping' })
    const graceMs = Number(this.config.settings.graceful_timeout) * 1000
    if (this.childMaster && !this.childMaster.ready) this.log.warning(`stopping while the new master (pid ${this.childMaster.pid}) is not ready yet: it is now the only one left to serve`)
    const workers = this.live()
    const exited = workers.map((w) => w.gone)
    for (const w of workers) {
      if (mode === 'graceful' && w.state === 'ready') void this.drain(w, 'graceful stop (TERM)')
      else this.terminate(w, mode === 'graceful' ? 'SIGKILL' : 'SIGQUIT', mode === 'graceful' ? 'stopping' : 'quick stop')
    }
    const limit = mode === 'graceful' ? graceMs + 1000 : 2000
    const timer = setTimeout(() => {
      for (const w of this.live()) this.terminate(w, 'SIGKILL', 'stop timeout')
    }, limit)
    await Promise.all(exited)
    clearTimeout(timer)
    for (const l of this.listeners) l.server.close()
    if (this.tickTimer) clearTimeout(this.tickTimer)
    // Only a pidfile that still names this master: after a USR2 the plain name belongs to the new one.
    if (this.pidfilePath) {
      try {
        if (Number(readFileSync(this.pidfilePath, 'utf8').trim()) === process.pid) unlinkSync(this.pidfilePath)
      } catch {
        // already gone
      }
    }
    // A new master started by USR2 lives on: its process and channel must not keep this
    // one alive (a stop by signal exits at once; a stop over the control socket waits for
    // the event loop to empty). The channel closes when this process exits, which is how
    // the new master learns it is alone.
    if (this.childMaster) {
      this.childMaster.child.unref()
      this.childMaster.child.channel?.unref()
    }
    this.setState('stopped')
    this.log.info('Shutting down: Master')
    this.hook('on_exit', this)
  }
}

function goneSignal(): { gone: Promise<void>; markGone: () => void } {
  let markGone!: () => void
  const gone = new Promise<void>((resolve) => (markGone = resolve))
  return { gone, markGone }
}
