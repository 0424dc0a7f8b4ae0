/**
 * The rolling reload (HUP, a worker class or app change, a setting that needs new
 * workers), and the readiness-gated replacement it shares with max-requests recycling.
 *
 *   begin: generation n -> n+1, every new worker spawned at once (the arbiter's reconcile)
 *     each new worker `ready` -> replaceOne: one old (or retiring) worker drains
 *     check: all n+1 ready and no worker of n left -> finish (reload.done)
 *     a worker of n+1 fails to boot -> rollBack: generation back to n, the new workers
 *       not serving are killed, the ones serving join n; spawning holds (reload.rolledback)
 *
 * An old worker drains only once a new one is ready, so capacity never dips and a new
 * generation that cannot boot leaves the old one serving.
 */
import type { ArbiterState, ControlEvent, ReloadProgress } from '../../shared/protocol.js'
import type { ErrorLog } from '../log/logger.js'
import type { ReloadOutcome } from './api.js'
import type { WorkerRecord } from './worker-record.js'
import { terminate } from './worker-process.js'

export interface ReloadState {
  progress: ReloadProgress
  resolve: (o: ReloadOutcome) => void
}

/** What a reload needs from the arbiter. */
export interface ReloadHost {
  readonly log: ErrorLog
  emit(event: ControlEvent): void
  live(): WorkerRecord[]
  /** the worker target */
  target(): number
  state(): ArbiterState
  setState(state: ArbiterState): void
  drain(w: WorkerRecord, reason: string): void
  /** A reload was rolled back: spawning holds until the next reload or scale, and `message` shows as the last error. */
  rolledBack(message: string): void
  /** A new generation serves alone: an earlier failure no longer describes the server. */
  succeeded(): void
}

export class RollingReload {
  /** the generation new workers belong to: a reload moves it on, a rollback back */
  generation: number
  /** the highest generation ever started: a rolled-back number is never given out again */
  issued: number
  private current: ReloadState | null = null
  private seq = 0

  /** `firstGeneration`: a host starting again after a stop continues the count */
  constructor(private readonly host: ReloadHost, firstGeneration = 1) {
    this.generation = this.issued = firstGeneration
  }

  get active(): boolean {
    return this.current !== null
  }

  /** a copy, for the snapshot */
  progress(): ReloadProgress | null {
    return this.current ? { ...this.current.progress } : null
  }

  /** Start generation n+1; resolves when the reload is done, rolled back, superseded or stopped. */
  begin(reason: string, workerClass: string): Promise<ReloadOutcome> {
    const from = this.generation
    this.generation = ++this.issued
    const target = this.host.target()
    const toDrain = this.host.live().filter((w) => w.state !== 'draining').length
    const progress: ReloadProgress = { id: ++this.seq, reason, fromGeneration: from, toGeneration: this.generation, ready: 0, wanted: target, drained: 0, toDrain, startedAt: Date.now() }
    this.host.setState('reloading')
    this.host.emit({ type: 'reload.started', at: Date.now(), reload: { ...progress } })
    this.host.log.info(`Reload ${progress.id} (${reason}): generation ${from} -> ${this.generation}, ${target} workers of class ${workerClass}`)
    return new Promise<ReloadOutcome>((resolve) => {
      this.current = { progress, resolve }
    })
  }

  /** `emitEvents` false: a newer reload supersedes this one and reports for both. */
  finish(outcome: ReloadOutcome, emitEvents = true): void {
    const r = this.current
    if (!r) return
    this.current = null
    if (emitEvents) {
      if (outcome.ok) {
        this.host.succeeded()
        this.host.emit({ type: 'reload.done', at: Date.now(), reload: { ...r.progress }, ms: Date.now() - r.progress.startedAt })
        this.host.log.info(`Reload ${r.progress.id} done in ${Date.now() - r.progress.startedAt} ms`)
      } else {
        this.host.emit({ type: 'reload.rolledback', at: Date.now(), reload: { ...r.progress }, error: outcome.error ?? 'failed' })
      }
    }
    if (this.host.state() === 'reloading') this.host.setState('running')
    r.resolve(outcome)
  }

  rollBack(error: string): void {
    const r = this.current
    if (!r) return
    const failedGen = this.generation
    this.generation = r.progress.fromGeneration
    // The failed generation's workers that are not serving are stopped; the old ones were
    // never drained before a new one was ready, so the service keeps its capacity.
    for (const w of this.host.live()) {
      if (w.generation === failedGen && w.state !== 'ready') terminate(w, 'SIGKILL', 'reload rolled back')
      else if (w.generation === failedGen && w.state === 'ready') w.generation = this.generation
    }
    const message = `reload failed, the previous generation keeps serving: ${error}`
    this.host.rolledBack(message)
    this.host.log.error(message)
    this.finish({ ok: false, generation: this.generation, error })
  }

  /** On every tick: report progress, and finish once the new generation serves alone. */
  check(): void {
    const r = this.current
    if (!r) return
    const live = this.host.live()
    const ready = live.filter((w) => w.generation === this.generation && w.state === 'ready').length
    const leftOld = live.filter((w) => w.generation !== this.generation).length
    const changed = r.progress.ready !== ready
    r.progress.ready = Math.min(ready, r.progress.wanted)
    r.progress.drained = r.progress.toDrain - leftOld
    if (changed) this.host.emit({ type: 'reload.progress', at: Date.now(), reload: { ...r.progress } })
    if (ready >= this.host.target() && leftOld === 0) this.finish({ ok: true, generation: this.generation })
  }

  /** A new worker is ready: one replaceable worker (old generation first, then retiring) may drain. */
  replaceOne(): void {
    const gen = this.generation
    const live = this.host.live()
    const replaceable = live
      .filter((w) => w.state === 'ready' && (w.generation !== gen || w.retiring))
      .sort((a, b) => (a.generation !== gen ? 0 : 1) - (b.generation !== gen ? 0 : 1) || a.spawnedAt - b.spawnedAt)
    const ready = live.filter((w) => w.state === 'ready' && w.generation === gen && !w.retiring).length
    const surplus = ready + replaceable.length - this.host.target()
    for (const w of replaceable.slice(0, Math.max(0, Math.min(surplus, replaceable.length)))) {
      this.host.drain(w, w.generation !== gen ? `replaced by generation ${gen}` : (w.reason ?? 'recycled'))
    }
  }
}
