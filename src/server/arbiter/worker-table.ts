/**
 * The arbiter's workers by pid, and what the snapshot counts of them (`ctl kill` goes through
 * here, so only a worker of this master is ever signalled). An exited record stays
 * FORGET_AFTER_MS so that the dashboard can show the exit and its reason; the requests it
 * served move to the table's own count, so the total never drops when a worker goes.
 */
import type { ArbiterCounters } from '../../shared/protocol.js'
import { PaddockError, describeError } from '../errors.js'
import type { WorkerRecord } from './worker-record.js'

export const FORGET_AFTER_MS = 10_000

export class WorkerTable {
  private readonly byPid = new Map<number, WorkerRecord>()
  private lastId = 0
  private spawned = 0
  private exitedCount = 0
  private killed = 0
  private requestsOfExited = 0

  /** ids count up from 1 and are never reused (slots are: slots.ts) */
  nextId(): number {
    return ++this.lastId
  }

  /** a worker just forked (one whose fork failed, pid -1, is counted but not listed) */
  add(w: WorkerRecord): void {
    this.spawned++
    if (w.pid > 0) this.byPid.set(w.pid, w)
  }

  get(pid: number): WorkerRecord | undefined {
    return this.byPid.get(pid)
  }

  /** every record, the recently exited too */
  all(): WorkerRecord[] {
    return [...this.byPid.values()]
  }

  live(): WorkerRecord[] {
    return this.all().filter((w) => w.state !== 'exited')
  }

  /** alive, of `generation`, neither draining nor retiring: what counts against the worker target */
  serving(generation: number): WorkerRecord[] {
    return this.live().filter((w) => w.generation === generation && w.state !== 'draining' && !w.retiring)
  }

  /** `ctl kill`: a signal to a live worker of this table, and nothing else */
  kill(pid: number, signal: string): void {
    const w = this.byPid.get(pid)
    if (!w || w.state === 'exited') throw new PaddockError('PADDOCK_ERR_NO_SUCH_WORKER', `no live worker with pid ${pid}`)
    try {
      process.kill(pid, signal as NodeJS.Signals)
    } catch (err) {
      throw new PaddockError('PADDOCK_ERR_INVALID_VALUE', `cannot send ${signal} to ${pid}: ${describeError(err)}`)
    }
    this.killed++
  }

  /** after its exit was recorded (worker-record.ts recordExit) */
  exited(w: WorkerRecord): void {
    this.exitedCount++
    this.requestsOfExited += w.stats?.requests ?? 0
    if (w.stats) w.stats = { ...w.stats, requests: 0 }
    setTimeout(() => this.byPid.delete(w.pid), FORGET_AFTER_MS).unref()
  }

  counters(): Pick<ArbiterCounters, 'requests' | 'workersSpawned' | 'workersExited' | 'workersKilled'> {
    const live = this.live().reduce((sum, w) => sum + (w.stats?.requests ?? 0), 0)
    return { requests: this.requestsOfExited + live, workersSpawned: this.spawned, workersExited: this.exitedCount, workersKilled: this.killed }
  }
}
