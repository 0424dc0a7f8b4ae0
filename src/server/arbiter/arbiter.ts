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
 * (with back-off after boot failures); more -> drain the highest slots. A new worker reaching
 * `ready` is what allows one replaceable worker (old generation, or retiring after
 * max-requests) to drain: capacity never dips during a reload or a recycle.
 *
 * This file keeps the state, the loop, spawning, worker messages and exits, and the API; each
 * other concept has a file of its own beside it (docs/architecture.md lists them).
 */
import { EventEmitter } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { ArbiterApi, ArbiterOptions, ReexecOutcome, ReloadOutcome } from './api.js'
import { bindAll, bindSpecs, listenerUrl, type BoundListener } from './binds.js'
import { drain, forkWorker, sendTo, stopWorkers } from './worker-process.js'
import { ServerHooks } from './hooks.js'
import { Reexec } from './reexec.js'
import { Pidfile } from './pidfile.js'
import { LiveConfig } from './live-config.js'
import { createWorkerRecord, forked, recordExit, recordMessage, type WorkerRecord } from './worker-record.js'
import { WorkerTable } from './worker-table.js'
import { RateWindow } from './rates.js'
import { Balancer } from './balance.js'
import { BootBackoff, backoffPolicy, bootFailureVerdict } from './backoff.js'
import { Watchdog } from './watchdog.js'
import { nextTickMs } from './loop.js'
import { arbiterSnapshot } from './snapshot.js'
import { RollingReload } from './reload.js'
import { WorkerTarget } from './scaling.js'
import { freeSlot, surplus } from './slots.js'
import { captureWorkerOutput } from './capture.js'
import { MemoryWatch } from './memory.js'
import { handToWorkers, workerIdentity, type WorkerIdentity } from '../platform/identity.js'
import { PaddockError, describeError } from '../errors.js'
import { ErrorLog } from '../log/logger.js'
import type { ResolvedConfig } from '../config/resolve.js'
import type { WorkerMessage } from '../worker/ipc.js'
import { tlsEnabled } from '../http/tls.js'
import { checkWorkerCount } from '../config/limits.js'
import type { ArbiterSnapshot, ArbiterState, ControlEvent, SettingInfo, StopMode, WorkerClassInput } from '../../shared/protocol.js'

export type { ArbiterOptions } from './api.js'

const WORKER_ENTRY = fileURLToPath(new URL('../worker/main.js', import.meta.url))
const BINDER_ENTRY = fileURLToPath(new URL('./binder-child.js', import.meta.url))

export class Arbiter implements ArbiterApi {
  private readonly liveConfig: LiveConfig
  readonly log: ErrorLog
  private readonly hooks: ServerHooks
  private readonly events = new EventEmitter()
  private readonly workers = new WorkerTable()
  private listeners: BoundListener[] = []
  private state: ArbiterState = 'starting'
  private readonly target: WorkerTarget
  private startedAt = Date.now()
  private tickTimer: NodeJS.Timeout | undefined
  private readonly backoff = new BootBackoff()
  private readonly watchdog: Watchdog
  private lastError: string | null = null
  private everReady = false
  private readonly reloads: RollingReload
  private stopping: Promise<void> | null = null
  private readonly rates = new RateWindow()
  private readonly balancer = new Balancer()
  /** reloads begun (the snapshot's `reloads`) */
  private reloadCount = 0
  private firstReady: { resolve: () => void; reject: (e: Error) => void } | null = null
  private readonly pidfile: Pidfile
  private readonly usr2: Reexec
  /** --user/--group: who the workers become (resolved at start: an unknown user fails it) */
  private identity: WorkerIdentity | null = null
  /** --max-worker-memory retired a worker (replacement first): the loop spawns its replacement now */
  private readonly memory = new MemoryWatch((line) => {
    this.log.warning(line)
    this.tick()
  })

  constructor(config: ResolvedConfig, private readonly options: ArbiterOptions = {}) {
    this.liveConfig = new LiveConfig(config, (event) => this.emit(event))
    this.target = new WorkerTarget(Number(config.settings.workers), (count, old) => this.hooks.run('nworkers_changed', this, count, old))
    this.log = options.log ?? new ErrorLog(config.settings.errorlog as string, config.settings.loglevel as never, config.settings.log_format === 'json' ? 'json' : 'text')
    this.hooks = new ServerHooks(() => this.config, this.log)
    this.log.onLine((level, message, pid) => this.emit({ type: 'log', at: Date.now(), stream: 'error', level, pid, message }))
    this.watchdog = new Watchdog({
      log: this.log,
      live: () => this.workers.live(),
      limits: () => ({ timeoutMs: Number(this.config.settings.timeout) * 1000, bootMs: Number(this.config.settings.boot_timeout) * 1000 }),
      vanished: (w) => this.onWorkerExit(w, null, null),
      timedOut: (event) => this.emit(event),
    }, this.backoff)
    this.reloads = new RollingReload({
      log: this.log,
      emit: (event) => this.emit(event),
      live: () => this.workers.live(),
      target: () => this.target.count,
      state: () => this.state,
      setState: (state) => this.setState(state),
      drain: (w, reason) => void this.drain(w, reason),
      rolledBack: (message) => {
        this.target.held = true
        this.lastError = message
      },
      succeeded: () => void (this.lastError = null),
    }, options.firstGeneration)
    this.pidfile = new Pidfile(() => (this.config.settings.pidfile ? String(this.config.settings.pidfile) : null), this.log)
    this.usr2 = new Reexec({
      log: this.log,
      pidfile: this.pidfile,
      launch: options.launch,
      oldMasterPid: () => options.oldMasterPid?.() ?? null,
      stopping: () => this.stopping !== null,
      listeners: () => this.listeners.map((l) => ({ fd: l.fd, bind: l.spec.bind })),
      stoppedWorkers: () => this.target.stoppedByWinch(Math.max(1, Number(this.config.settings.workers))),
      addWorkers: (n) => void this.addWorkers(n),
      readyWorkers: () => this.serving().filter((w) => w.state === 'ready').length,
      readyWithinMs: () => Number(this.config.settings.timeout) * 1000 + 5000,
      onEvent: (listener) => this.onEvent(listener),
    })
  }

  // ------------------------------------------------------------ public API

  /** the configuration now (hooks read it as `server.config`) */
  get config(): ResolvedConfig {
    return this.liveConfig.config
  }

  get settingsValues(): Record<string, unknown> {
    return this.config.settings
  }

  /** the highest generation this arbiter started (Host continues from it after a stop) */
  get lastGeneration(): number {
    return this.reloads.issued
  }

  get pid(): number {
    return process.pid
  }

  /** Bind, spawn the first generation, resolve once one worker is ready. */
  async start(): Promise<void> {
    await this.hooks.wait('on_starting', this)
    this.identity = workerIdentity(this.config.settings)
    handToWorkers(this.config.settings.accesslog as string | null, this.identity)
    this.listeners = await bindAll(bindSpecs(this.config.settings, this.options.inherited, this.log), this.options.binderEntry ?? BINDER_ENTRY, this.options.execArgv)
    for (const l of this.listeners) this.log.info(`Listening at: ${listenerUrl(l, tlsEnabled(this.config.settings))} (${process.pid})`)
    this.log.info(`Using worker: ${this.liveConfig.workerClass}`)
    this.pidfile.write()
    this.setState('running')
    const ready = new Promise<void>((resolve, reject) => (this.firstReady = { resolve, reject }))
    this.tick()
    await ready
    await this.hooks.wait('when_ready', this)
  }

  snapshot(): ArbiterSnapshot {
    return arbiterSnapshot({
      config: this.config, state: this.state, startedAt: this.startedAt, listeners: this.listeners, lastError: this.lastError,
      targetWorkers: this.target.count, generation: this.reloads.generation, reload: this.reloads.progress(), upgrade: this.usr2.state(),
      counters: { reloads: this.reloadCount, timeouts: this.watchdog.timeouts, ...this.workers.counters() }, workers: this.workers.all(), rates: this.rates.summary(),
    })
  }

  onEvent(listener: (event: ControlEvent) => void): () => void {
    this.events.on('event', listener)
    return () => this.events.off('event', listener)
  }

  async reload(reason = 'HUP'): Promise<ReloadOutcome> {
    if (this.stopping) throw new PaddockError('PADDOCK_ERR_STATE', 'the server is stopping')
    // A second HUP during a reload restarts it against the newest configuration.
    if (this.reloads.active) this.reloads.finish({ ok: false, generation: this.reloads.generation, error: 'superseded by a newer reload' }, false)
    if (reason === 'HUP') this.log.info('Handling signal: hup')
    try {
      const fresh = await this.liveConfig.reread()
      if (fresh) {
        this.liveConfig.replace(fresh)
        this.target.reset(Number(fresh.settings.workers))
        this.log.setLevel(fresh.settings.loglevel as never)
      }
    } catch (err) {
      const message = `reload aborted, configuration is invalid: ${describeError(err)}`
      this.log.error(message)
      return { ok: false, generation: this.reloads.generation, error: message }
    }
    this.hooks.run('on_reload', this)
    return this.rollingReplace(reason)
  }

  /**
   * Serve another app module: a reload whose new generation loads `app`. If it fails to
   * boot, the old generation keeps serving the old app and the change is undone.
   */
  async setApp(app: string): Promise<ReloadOutcome> {
    const undo = this.liveConfig.setApp(app)
    const out = await this.reload('app changed')
    if (!out.ok) undo()
    return out
  }

  addWorkers(n = 1): number {
    checkWorkerCount(this.target.count + Math.max(1, Math.floor(n)), Number(this.config.settings.max_workers))
    this.target.add(n)
    this.tick()
    return this.target.count
  }

  removeWorkers(n = 1): number {
    this.target.remove(n)
    this.tick()
    return this.target.count
  }

  scaleTo(n: number): number {
    checkWorkerCount(n, Number(this.config.settings.max_workers))
    this.target.scaleTo(n)
    this.tick()
    return this.target.count
  }

  async setWorkerClass(workerClass: WorkerClassInput, sizes: { threads?: number; workerConnections?: number } = {}): Promise<ReloadOutcome> {
    const now = this.liveConfig.setWorkerClass(workerClass, sizes)
    return this.rollingReplace(`worker class -> ${now}`)
  }

  killWorker(pid: number, signal = 'SIGTERM'): void {
    this.workers.kill(pid, signal)
  }

  reopenLogs(): void {
    this.log.reopen(this.config.settings.errorlog as string)
    handToWorkers(this.config.settings.accesslog as string | null, this.identity)
    for (const w of this.workers.live()) sendTo(w, { t: 'reopen-logs' })
    this.log.info('Reopened log files')
  }

  async stopWorkers(): Promise<void> {
    this.target.stopAll()
    await Promise.all(this.workers.live().map((w) => this.drain(w, 'WINCH: stop all workers')))
  }

  stop(mode: StopMode = 'graceful'): Promise<void> {
    return (this.stopping ??= this.doStop(mode))
  }

  settings(): SettingInfo[] {
    return this.liveConfig.infos()
  }

  /** USR2: see Reexec.start. */
  reexec(): Promise<ReexecOutcome> {
    return this.usr2.start()
  }

  cancelReexec(): Promise<ReexecOutcome> {
    return this.usr2.cancel()
  }

  async setSetting(name: string, value: unknown): Promise<SettingInfo> {
    const { spec, settings: next } = this.liveConfig.set(name, value)
    if (name === 'workers') this.scaleTo(Number(next.workers))
    else if (name === 'loglevel') this.log.setLevel(next.loglevel as never)
    else if (spec.apply === 'reload') void this.rollingReplace(`setting ${name} changed`)
    return this.settings().find((s) => s.name === name)!
  }

  workerPids(): number[] {
    return this.workers.live().map((w) => w.pid)
  }

  // ------------------------------------------------------------ internals

  private emit(event: ControlEvent): void {
    this.events.emit('event', event)
  }

  private setState(state: ArbiterState, error?: string): void {
    if (this.state === state) return
    this.state = state
    this.emit({ type: 'arbiter.state', at: Date.now(), state, error })
  }

  /** A reload afresh: the crash-loop count, a held spawn and an errored state end with it. */
  private rollingReplace(reason: string): Promise<ReloadOutcome> {
    this.reloadCount++
    this.backoff.reset()
    if (this.state === 'errored') this.lastError = null
    this.target.held = false
    const done = this.reloads.begin(reason, this.liveConfig.workerClass)
    this.tick()
    return done
  }

  private tick(): void {
    clearTimeout(this.tickTimer)
    if (this.state === 'stopped') return
    try {
      this.watchdog.check()
      if (!this.stopping) this.memory.check(this.config.settings.max_worker_memory, this.workers.live())
      this.reconcile()
      this.reloads.check()
      if (!this.reloads.active && !this.stopping) this.balancer.shedFrom(this.workers.live(), Date.now(), (w, count) => sendTo(w, { t: 'shed', count }))
    } catch (err) {
      this.log.error(`arbiter loop: ${(err as Error).stack ?? err}`)
    }
    const busy = this.stopping !== null || this.reloads.active || this.backoff.failures > 0 || this.serving().length !== this.target.count
    const memoryWatched = Boolean(this.config.settings.max_worker_memory)
    const next = nextTickMs({ busy, workers: this.workers.live(), timeoutMs: Number(this.config.settings.timeout) * 1000, memoryWatched, now: Date.now() })
    this.tickTimer = setTimeout(() => this.tick(), next)
  }

  private serving(): WorkerRecord[] {
    return this.workers.serving(this.reloads.generation)
  }

  private reconcile(): void {
    if (this.stopping || this.state === 'errored') return
    const serving = this.serving()
    const target = this.target.count
    if (serving.length < target && !this.target.held) {
      if (!this.backoff.maySpawn(Date.now())) return
      this.spawn()
      // The rest follow one fork at a time with the loop turning in between (a fork blocks
      // the master for 5-30 ms): a TERM, IPC and the control plane are answered while
      // hundreds of workers are forked, and a TERM stops the forking at once (a loop that
      // forked 500 at once kept booting workers 25 s after TERM). After a boot failure it is
      // one per tick, so a crash loop cannot spin.
      if (this.backoff.failures === 0 && serving.length + 1 < target) this.spawnNext()
    } else if (serving.length > target) {
      for (const w of surplus(serving, serving.length - target)) void this.drain(w, 'TTOU: fewer workers')
    }
  }

  private spawnImmediate: NodeJS.Immediate | null = null

  private spawnNext(): void {
    this.spawnImmediate ??= setImmediate(() => {
      this.spawnImmediate = null
      if (this.state === 'stopped') return
      try {
        this.reconcile()
      } catch (err) {
        this.log.error(`arbiter loop: ${(err as Error).stack ?? err}`)
      }
    })
  }

  private spawn(): WorkerRecord {
    const generation = this.reloads.generation
    const workerClass = this.liveConfig.workerClass
    const w = createWorkerRecord({ id: this.workers.nextId(), generation, workerClass, slot: freeSlot(this.serving()) })
    this.hooks.run('pre_fork', this, w)
    const child = forkWorker(this.options.workerEntry ?? WORKER_ENTRY, w, this.config, this.listeners, this.options.execArgv ?? [], this.identity)
    forked(w, child)
    this.workers.add(w)
    this.emit({ type: 'worker.spawned', at: Date.now(), pid: w.pid, generation: w.generation, workerClass })
    this.log.info(`Booting worker with pid: ${w.pid} (slot ${w.slot}, generation ${w.generation}, ${workerClass})`)
    captureWorkerOutput(child, (level, line) => this.log.log(level, line, w.pid))
    child.on('message', (m: WorkerMessage) => this.onWorkerMessage(w, m))
    child.on('exit', (code, signal) => this.onWorkerExit(w, code, signal))
    child.on('error', (err) => this.log.error(`worker ${w.pid}: ${err.message}`))
    return w
  }

  private onWorkerMessage(w: WorkerRecord, m: WorkerMessage): void {
    const next = recordMessage(w, m, Date.now())
    if (m.t === 'hb') this.rates.add(m.stats.completed, m.stats.durations)
    if (next.ready) {
      this.everReady = true
      this.balancer.workerReady()
      if (this.state === 'errored') this.setState('running')
    }
    if (next.log) this.log.log(next.log.level, next.log.message, next.log.pid)
    for (const event of next.events) this.emit(event)
    if (next.ready) {
      this.firstReady?.resolve()
      this.firstReady = null
      this.reloads.replaceOne()
    }
    if (next.tick) this.tick()
  }

  private drain(w: WorkerRecord, reason: string): Promise<void> {
    return drain(w, reason, this.graceMs(), (event) => this.emit(event))
  }

  private graceMs(): number {
    return Number(this.config.settings.graceful_timeout) * 1000
  }

  private onWorkerExit(w: WorkerRecord, code: number | null, signal: NodeJS.Signals | null): void {
    // recorded once: the child's exit event may follow the process-table check
    if (w.state === 'exited') return
    const exit = recordExit(w, code, signal, Date.now())
    this.balancer.workerExited(Date.now())
    this.workers.exited(w)
    this.emit(exit.event)
    this.log.log(exit.log.level, exit.log.message)
    this.hooks.run('child_exit', this, w)
    if (exit.crash) this.onBootFailure(w, exit.reason, code, exit.crash.upMs)
    this.tick()
  }

  /** Applies backoff.ts's verdict on a failure to boot, or a death soon after ready (`upMs`). */
  private onBootFailure(w: WorkerRecord, reason: string, code: number | null, upMs?: number): void {
    const ofReloadingGeneration = this.reloads.active && w.generation === this.reloads.generation
    const failure = { failures: this.backoff.failed(), ofReloadingGeneration, everReady: this.everReady, startPending: this.firstReady !== null }
    const verdict = bootFailureVerdict({ ...failure, exitCode: code, upMs, reason, policy: backoffPolicy(this.config.settings) })
    if (verdict.do === 'roll back') return this.reloads.rollBack(reason)
    if (verdict.do === 'wait') {
      this.backoff.waitUntil(Date.now() + verdict.ms)
      return this.log.warning(verdict.message)
    }
    this.lastError = verdict.message
    if (verdict.do === 'errored') this.log.critical(verdict.message)
    this.setState('errored', verdict.message)
    this.firstReady?.reject(new PaddockError('PADDOCK_ERR_BOOT', reason))
    this.firstReady = null
  }

  private async doStop(mode: StopMode): Promise<void> {
    this.setState('stopping')
    if (this.reloads.active) this.reloads.finish({ ok: false, generation: this.reloads.generation, error: 'server stopping' })
    this.usr2.warnIfAlone()
    await stopWorkers(() => this.workers.live(), mode, this.graceMs(), (event) => this.emit(event))
    for (const l of this.listeners) l.server.close()
    clearTimeout(this.tickTimer)
    this.pidfile.remove()
    this.usr2.release()
    this.setState('stopped')
    this.log.info('Shutting down: Master')
    await this.hooks.wait('on_exit', this)
  }
}
