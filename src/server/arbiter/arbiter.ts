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
 *
 * This file keeps the state, the loop, spawning, worker messages and exits, and the API;
 * each other concept has a file of its own beside it (docs/architecture.md lists them):
 * what a message or an exit changes on a worker's record is worker-record.ts, the table of
 * records worker-table.ts, the verdict on a boot failure backoff.ts; this file applies them.
 */
import { EventEmitter } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { ArbiterApi, ArbiterOptions, ReexecOutcome, ReloadOutcome } from './api.js'
import { bindAll, bindSpecs, listenerUrl, type BoundListener } from './binds.js'
import { drain, forkWorker, sendTo, stopWorkers } from './worker-process.js'
import { runBoundedHook, runHook } from './hooks.js'
import { Reexec } from './reexec.js'
import { Pidfile } from './pidfile.js'
import { LiveConfig } from './live-config.js'
import { createWorkerRecord, forked, recordExit, recordMessage, retire, type WorkerRecord } from './worker-record.js'
import { WorkerTable } from './worker-table.js'
import { RateWindow } from './rates.js'
import { Balancer, balanceFigures } from './balance.js'
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
import {
  type ArbiterSnapshot,
  type ArbiterState,
  type ControlEvent,
  type SettingInfo,
  type StopMode,
  type WorkerClassInput,
  type WorkerClassName,
} from '../../shared/protocol.js'

export type { ArbiterOptions } from './api.js'

export class Arbiter implements ArbiterApi {
  private readonly liveConfig: LiveConfig
  readonly log: ErrorLog
  private readonly events = new EventEmitter()
  private readonly workers = new WorkerTable()
  private listeners: BoundListener[] = []
  private state: ArbiterState = 'starting'
  private readonly target: WorkerTarget
  private startedAt = Date.now()
  private tickTimer: NodeJS.Timeout | null = null
  private readonly backoff = new BootBackoff()
  private readonly watchdog: Watchdog
  private lastError: string | null = null
  private everReady = false
  private readonly reloads: RollingReload
  private stopping: Promise<void> | null = null
  private readonly rates = new RateWindow()
  private readonly balancer = new Balancer()
  /** the snapshot's counters the worker table does not keep */
  private readonly counters = { reloads: 0, workersKilled: 0, timeouts: 0 }
  private readonly workerEntry: string
  private readonly binderEntry: string
  private firstReady: { resolve: () => void; reject: (e: Error) => void } | null = null
  private readonly pidfile: Pidfile
  private readonly usr2: Reexec
  /** --user/--group: who the workers become (resolved at start: an unknown user fails it) */
  private identity: WorkerIdentity | null = null
  private readonly memory = new MemoryWatch((v) => this.retire(v.pid, v.reason))

  constructor(config: ResolvedConfig, private readonly options: ArbiterOptions = {}) {
    this.liveConfig = new LiveConfig(config, (event) => this.emit(event))
    this.target = new WorkerTarget(Number(config.settings.workers), (count, old) => this.hook('nworkers_changed', this, count, old))
    this.log = options.log ?? new ErrorLog(config.settings.errorlog as string, config.settings.loglevel as never, config.settings.log_format === 'json' ? 'json' : 'text')
    this.log.onLine((level, message, pid) => this.emit({ type: 'log', at: Date.now(), stream: 'error', level, pid, message }))
    this.watchdog = new Watchdog(
      {
        log: this.log,
        live: () => this.live(),
        limits: () => ({ timeoutMs: Number(this.config.settings.timeout) * 1000, bootMs: Number(this.config.settings.boot_timeout) * 1000 }),
        vanished: (w) => this.onWorkerExit(w, null, null),
        timedOut: (event) => {
          this.counters.timeouts++
          this.emit(event)
        },
      },
      this.backoff,
    )
    this.reloads = new RollingReload({
      log: this.log,
      emit: (event) => this.emit(event),
      live: () => this.live(),
      target: () => this.target.count,
      state: () => this.state,
      setState: (state) => this.setState(state),
      drain: (w, reason) => void this.drain(w, reason),
      rolledBack: (message) => {
        this.target.held = true
        this.lastError = message
      },
      succeeded: () => {
        this.lastError = null
      },
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
    this.workerEntry = options.workerEntry ?? fileURLToPath(new URL('../worker/main.js', import.meta.url))
    this.binderEntry = options.binderEntry ?? fileURLToPath(new URL('./binder-child.js', import.meta.url))
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
    await this.awaitHook('on_starting', 'boot')
    this.identity = workerIdentity(this.config.settings)
    handToWorkers(this.config.settings.accesslog as string | null, this.identity)
    this.listeners = await bindAll(bindSpecs(this.config.settings, this.options.inherited, this.log), this.binderEntry, this.options.execArgv)
    for (const l of this.listeners) this.log.info(`Listening at: ${listenerUrl(l, tlsEnabled(this.config.settings))} (${process.pid})`)
    this.log.info(`Using worker: ${this.workerClass()}`)
    this.pidfile.write()
    this.setState('running')
    const ready = new Promise<void>((resolve, reject) => (this.firstReady = { resolve, reject }))
    this.tick()
    await ready
    await this.awaitHook('when_ready', 'boot')
  }

  snapshot(): ArbiterSnapshot {
    return arbiterSnapshot({
      config: this.config,
      state: this.state,
      startedAt: this.startedAt,
      targetWorkers: this.target.count,
      generation: this.reloads.generation,
      listeners: this.listeners,
      counters: { ...this.counters, ...this.workers.counters() },
      workers: this.workers.all(),
      rates: this.rates.summary(),
      lastError: this.lastError,
      reload: this.reloads.progress(),
      upgrade: this.usr2.state(),
    })
  }

  onEvent(listener: (event: ControlEvent) => void): () => void {
    this.events.on('event', listener)
    return () => this.events.off('event', listener)
  }

  async reload(reason = 'HUP'): Promise<ReloadOutcome> {
    if (this.stopping) throw new PaddockError('PADDOCK_ERR_STATE', 'the server is stopping')
    if (this.reloads.active) {
      // A second HUP during a reload restarts it against the newest configuration.
      this.reloads.finish({ ok: false, generation: this.reloads.generation, error: 'superseded by a newer reload' }, false)
    }
    if (reason === 'HUP') this.log.info('Handling signal: hup')
    try {
      const fresh = await this.liveConfig.reread()
      if (fresh) this.applyConfig(fresh)
    } catch (err) {
      const message = `reload aborted, configuration is invalid: ${describeError(err)}`
      this.log.error(message)
      return { ok: false, generation: this.reloads.generation, error: message }
    }
    this.hook('on_reload', this)
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
    handToWorkers(this.config.settings.accesslog as string | null, this.identity)
    for (const w of this.live()) sendTo(w, { t: 'reopen-logs' })
    this.log.info('Reopened log files')
  }

  async stopWorkers(): Promise<void> {
    this.target.stopAll()
    const gone = this.live().map((w) => this.drain(w, 'WINCH: stop all workers'))
    await Promise.all(gone)
  }

  stop(mode: StopMode = 'graceful'): Promise<void> {
    if (this.stopping) return this.stopping
    this.stopping = this.doStop(mode)
    return this.stopping
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
    return this.live().map((w) => w.pid)
  }

  // ------------------------------------------------------------ internals

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
    runHook(this.config.hooks, this.log, name, args)
  }

  /** the hooks the master waits for: on the way in within --boot-timeout, on the way out within --graceful-timeout */
  private awaitHook(name: 'on_starting' | 'when_ready' | 'on_exit', way: 'boot' | 'graceful'): Promise<void> {
    const bound = way === 'boot'
      ? { ms: Number(this.config.settings.boot_timeout) * 1000, setting: '--boot-timeout' }
      : { ms: this.graceMs(), setting: '--graceful-timeout' }
    return runBoundedHook(this.config.hooks, this.log, name, [this], bound)
  }

  private applyConfig(fresh: ResolvedConfig): void {
    this.liveConfig.replace(fresh)
    this.target.reset(Number(fresh.settings.workers))
    this.log.setLevel(fresh.settings.loglevel as never)
  }

  private live(): WorkerRecord[] {
    return this.workers.live()
  }

  /** A reload afresh: the crash-loop count, a held spawn and an errored state end with it. */
  private rollingReplace(reason: string): Promise<ReloadOutcome> {
    this.counters.reloads++
    this.backoff.reset()
    if (this.state === 'errored') this.lastError = null
    this.target.held = false
    const done = this.reloads.begin(reason, this.workerClass())
    this.tick()
    return done
  }

  private tick(): void {
    if (this.tickTimer) clearTimeout(this.tickTimer)
    this.tickTimer = null
    if (this.state === 'stopped') return
    try {
      this.watchdog.check()
      if (!this.stopping) this.memory.check(this.config.settings.max_worker_memory, this.live())
      this.reconcile()
      this.reloads.check()
      this.balance()
    } catch (err) {
      this.log.error(`arbiter loop: ${(err as Error).stack ?? err}`)
    }
    this.tickTimer = setTimeout(() => this.tick(), this.tickPeriod())
  }

  private tickPeriod(): number {
    const busy = this.stopping !== null || this.reloads.active || this.backoff.failures > 0 || this.serving().length !== this.target.count
    const next = nextTickMs({ busy, workers: this.live(), timeoutMs: Number(this.config.settings.timeout) * 1000, now: Date.now() })
    // --max-worker-memory samples RSS from the loop (memory.ts wants two samples a second apart)
    return this.config.settings.max_worker_memory ? Math.min(next, 1000) : next
  }

  private balance(): void {
    if (this.reloads.active || this.stopping) return
    const now = Date.now()
    // a worker that just became ready has no heartbeat yet: it holds no connections
    const ready = this.live().filter((w) => w.state === 'ready')
    const figures = ready.map((w) => balanceFigures(w, w.traits?.shedsConnections ?? false))
    for (const { pid, count } of this.balancer.round(figures, now)) {
      const w = this.workers.get(pid)!
      w.shed = { at: now }
      sendTo(w, { t: 'shed', count })
    }
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
      const candidates = serving.filter((w) => w.state === 'ready' || w.state === 'booting' || w.state === 'spawning')
      const extra = surplus(candidates, serving.length - target)
      for (const w of extra) void this.drain(w, 'TTOU: fewer workers')
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
    const workerClass = this.workerClass()
    const w = createWorkerRecord({ id: this.workers.nextId(), generation, workerClass, slot: freeSlot(this.serving()) })
    this.hook('pre_fork', this, w)
    const child = forkWorker(this.workerEntry, w, this.config, this.listeners, this.options.execArgv ?? [], this.identity)
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

  /** --max-worker-memory's verdict (memory.ts): replacement first, as --max-requests */
  private retire(pid: number, reason: string): void {
    const w = this.workers.get(pid)
    if (!w || !retire(w, reason)) return
    this.log.warning(`Worker ${pid} ${reason}: starting its replacement first`)
    this.tick()
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
    this.hook('child_exit', this, w)
    if (exit.crash) this.onBootFailure(w, exit.reason, code, exit.crash.upMs)
    this.tick()
  }

  /** Applies backoff.ts's verdict on a failure to boot, or a death soon after ready (`upMs`). */
  private onBootFailure(w: WorkerRecord, reason: string, code: number | null, upMs?: number): void {
    const verdict = bootFailureVerdict({
      failures: this.backoff.failed(),
      ofReloadingGeneration: this.reloads.active && w.generation === this.reloads.generation,
      everReady: this.everReady,
      exitCode: code,
      startPending: this.firstReady !== null,
      upMs,
      reason,
      policy: backoffPolicy(this.config.settings),
    })
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
    await stopWorkers(() => this.live(), mode, this.graceMs(), (event) => this.emit(event))
    for (const l of this.listeners) l.server.close()
    if (this.tickTimer) clearTimeout(this.tickTimer)
    this.pidfile.remove()
    this.usr2.release()
    this.setState('stopped')
    this.log.info('Shutting down: Master')
    await this.awaitHook('on_exit', 'graceful')
  }
}
