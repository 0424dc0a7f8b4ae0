/**
 * Host: what a dashboard hosts (Electron main, `paddock dashboard`). It is an ArbiterApi
 * that outlives any one Arbiter, so the operator can stop the server and start it again,
 * open another app module, and run the teaching kit's load generator and experiments
 * against it. Everything here is also reachable headless: nothing imports Electron.
 *
 *   Host ──owns──> Arbiter (replaced on start after stop)
 *        ──owns──> load runner process (loadgen), at most one at a time
 */
import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { ArbiterApi, HostApi, ReexecOutcome, ReloadOutcome } from '../arbiter/api.js'
import { Arbiter, type ArbiterOptions } from '../arbiter/arbiter.js'
import type { ResolvedConfig } from '../config/resolve.js'
import { PaddockError } from '../errors.js'
import { startLoad, type LoadHandle } from '../loadgen/index.js'
import { resolveUrl, runExperiment } from '../loadgen/experiment.js'
import { Ring } from '../../shared/ring.js'
import { HISTORY_REPLAY_EVENTS, isReplayed } from '../../shared/history.js'
import type {
  ArbiterSnapshot,
  ControlEvent,
  ExperimentOptions,
  ExperimentResult,
  LoadOptions,
  LoadProgress,
  LoadResult,
  SettingInfo,
  StopMode,
  WorkerClassInput,
} from '../../shared/protocol.js'

export class Host implements ArbiterApi, HostApi {
  private arbiter: Arbiter
  private unsubscribe: () => void = () => {}
  private readonly events = new EventEmitter()
  private loadHandle: LoadHandle | null = null
  /** the latest progress of the load under way (a single load or an experiment's current one) */
  private loadProgress: LoadProgress | null = null
  private experimentRunning = false
  private starting: Promise<void> | null = null
  /** replayable events since the host began, for control servers that subscribe later (startHostedServer opens its control plane after the first start) */
  private readonly kept = new Ring<ControlEvent>(HISTORY_REPLAY_EVENTS)

  constructor(
    private config: ResolvedConfig,
    private readonly options: ArbiterOptions = {},
  ) {
    this.events.setMaxListeners(0)
    this.events.on('event', (e: ControlEvent) => isReplayed(e) && this.kept.push(e))
    this.arbiter = this.create()
  }

  private create(firstGeneration?: number): Arbiter {
    this.unsubscribe()
    const a = new Arbiter(this.config, { ...this.options, firstGeneration })
    this.unsubscribe = a.onEvent((e) => this.events.emit('event', e))
    return a
  }

  private emit(event: ControlEvent): void {
    this.events.emit('event', event)
  }

  private running(): Arbiter {
    const state = this.arbiter.snapshot().state
    if (state === 'stopped' || state === 'stopping') throw new PaddockError('PADDOCK_ERR_STATE', `the server is ${state}; start it first`)
    return this.arbiter
  }

  // ------------------------------------------------------------ lifecycle

  /** First start, or start again after a stop (same configuration, new master state). */
  async start(): Promise<void> {
    if (this.starting) return this.starting
    const state = this.arbiter.snapshot().state
    if (state === 'running' || state === 'reloading') throw new PaddockError('PADDOCK_ERR_STATE', 'the server is already running')
    if (state === 'stopping') throw new PaddockError('PADDOCK_ERR_STATE', 'the server is still stopping; try again when it has stopped')
    if (state === 'stopped') {
      // Runtime changes (class, timeout, scale, app) survive a stop, and generations keep
      // counting: a g2 that failed before the stop and the g2 after it would look the same.
      const last = this.arbiter
      this.config = { ...last.config, settings: { ...last.config.settings, workers: last.snapshot().targetWorkers || last.config.settings.workers } }
      this.arbiter = this.create(last.lastGeneration + 1)
    }
    this.starting = this.arbiter.start().finally(() => (this.starting = null))
    return this.starting
  }

  async setApp(app: string): Promise<ReloadOutcome> {
    const [file] = app.split(':')
    const abs = path.resolve(String(this.config.settings.chdir ?? process.cwd()), file!)
    if (!existsSync(abs)) throw new PaddockError('PADDOCK_ERR_INVALID_VALUE', `no such module: ${abs}`)
    const spec = app.includes(':') ? `${abs}:${app.slice(app.indexOf(':') + 1)}` : abs
    const out = await this.running().setApp(spec)
    if (out.ok) this.config = { ...this.config, app: spec }
    return out
  }

  // ------------------------------------------------------------ load generator

  private busy(): void {
    if (this.loadHandle || this.experimentRunning) throw new PaddockError('PADDOCK_ERR_BUSY', 'a load test is already running; stop it first')
  }

  private progress = (p: LoadProgress): void => {
    this.loadProgress = p.running ? p : null
    this.emit({ type: 'load.progress', at: Date.now(), load: p })
  }

  /** Start a load in its own process; progress and the result arrive as events. */
  startLoad(options: LoadOptions): { url: string } {
    this.busy()
    this.running()
    const url = resolveUrl(options.url, this)
    let finished = false
    // a progress message the runner sent after its result must not bring the run back to life
    const handle = startLoad({ ...options, url }, (p) => finished || this.progress(p))
    this.loadHandle = handle
    void handle.done.then((result: LoadResult) => {
      finished = true
      this.loadHandle = null
      this.loadProgress = null
      this.emit({ type: 'load.done', at: Date.now(), result })
    })
    return { url }
  }

  stopLoad(): boolean {
    if (!this.loadHandle) return false
    this.loadHandle.stop()
    return true
  }

  async runExperiment(options: ExperimentOptions): Promise<{ results: ExperimentResult[]; explanation: string }> {
    this.busy()
    this.running()
    if (!options.subjects?.length) throw new PaddockError('PADDOCK_ERR_INVALID_VALUE', 'an experiment needs at least one subject')
    this.experimentRunning = true
    try {
      return await runExperiment(options, this, (_subject, p) => this.progress(p))
    } finally {
      this.loadProgress = null
      this.experimentRunning = false
    }
  }

  // ------------------------------------------------------------ ArbiterApi, delegated

  snapshot(): ArbiterSnapshot {
    return { ...this.arbiter.snapshot(), load: this.loadProgress }
  }

  recentEvents(): ControlEvent[] {
    return this.kept.toArray()
  }

  onEvent(listener: (event: ControlEvent) => void): () => void {
    this.events.on('event', listener)
    return () => this.events.off('event', listener)
  }

  reload(reason?: string): Promise<ReloadOutcome> {
    return this.running().reload(reason)
  }
  addWorkers(n?: number): number {
    return this.running().addWorkers(n)
  }
  removeWorkers(n?: number): number {
    return this.running().removeWorkers(n)
  }
  scaleTo(n: number): number {
    return this.running().scaleTo(n)
  }
  setWorkerClass(workerClass: WorkerClassInput, sizes?: { threads?: number; workerConnections?: number }): Promise<ReloadOutcome> {
    return this.running().setWorkerClass(workerClass, sizes)
  }
  killWorker(pid: number, signal?: string): void {
    this.running().killWorker(pid, signal)
  }
  reopenLogs(): void {
    this.arbiter.reopenLogs()
  }
  stopWorkers(): Promise<void> {
    return this.running().stopWorkers()
  }
  reexec(): Promise<ReexecOutcome> {
    return this.running().reexec()
  }
  cancelReexec(): Promise<ReexecOutcome> {
    return this.running().cancelReexec()
  }
  async stop(mode?: StopMode): Promise<void> {
    this.loadHandle?.stop()
    await this.arbiter.stop(mode)
  }
  settings(): SettingInfo[] {
    return this.arbiter.settings()
  }
  setSetting(name: string, value: unknown): Promise<SettingInfo> {
    return this.running().setSetting(name, value)
  }
  workerPids(): number[] {
    return this.arbiter.workerPids()
  }
}
