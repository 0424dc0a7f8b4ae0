/**
 * How many workers the arbiter keeps, and whether it may spawn: TTIN / TTOU, a scale from
 * the control plane, the workers setting on a reload, WINCH (no workers until told
 * otherwise) and a rolled-back reload (no new workers of the failed kind). Every change
 * of the count goes to `changed` (the nworkers_changed hook).
 */
import { PaddockError } from '../errors.js'

export class WorkerTarget {
  /** spawning holds until the next reload or scale: after WINCH, or a reload rolled back */
  held = false
  /** the count before WINCH, for an upgrade that is called off */
  private beforeStopAll: number | null = null

  constructor(
    public count: number,
    private readonly changed: (count: number, old: number) => void,
  ) {}

  /** TTIN (n times); after WINCH it also lets spawning go again. */
  add(n: number): number {
    const old = this.count
    if (this.held && this.count === 0) this.held = false
    this.count += Math.max(1, Math.floor(n))
    return this.report(old)
  }

  /** TTOU (n times); never below 1. */
  remove(n: number): number {
    const old = this.count
    this.count = Math.max(1, this.count - Math.max(1, Math.floor(n)))
    return this.report(old)
  }

  scaleTo(n: number): number {
    if (!Number.isInteger(n) || n < 1) throw new PaddockError('PADDOCK_ERR_INVALID_VALUE', `worker count must be a whole number of at least 1, got ${n}`)
    const old = this.count
    this.held = false
    this.count = n
    return this.report(old)
  }

  /** WINCH: no workers, and none spawned until a TTIN, a scale or a reload. */
  stopAll(): void {
    this.held = true
    const old = this.count
    if (old > 0) this.beforeStopAll = old
    this.count = 0
    this.report(old)
  }

  /** After WINCH: how many workers to start again (`fallback` if none ran before); null while spawning is not stopped. */
  stoppedByWinch(fallback: number): number | null {
    return this.held && this.count === 0 ? (this.beforeStopAll ?? fallback) : null
  }

  /** A reload read the workers setting again: that many, spawning free. */
  reset(count: number): void {
    this.count = count
    this.held = false
  }

  private report(old: number): number {
    if (old !== this.count) this.changed(this.count, old)
    return this.count
  }
}
