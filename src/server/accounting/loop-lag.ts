/**
 * The worker's event-loop lag, for its heartbeat (see WorkerCounters).
 */
import { performance } from 'node:perf_hooks'

/** how often the event loop's lag is sampled while the loop works */
const LOOP_RESOLUTION_MS = 10
/** how long a stall keeps showing: a 4 Hz dashboard or a once-a-second poll must not miss it */
const LOOP_WINDOW_MS = 1000
/**
 * A loop that ran this long, and this share of the time, in a period it was not sampled (no
 * request) is working: sample it. Less is noise: a descheduled process on a loaded machine
 * or a GC read up to 25 ms in an idle second.
 */
const WAKE_ON_ACTIVE_MS = 50
const WAKE_ON_UTILIZATION = 0.05

/**
 * Event-loop lag: how late a 10 ms timer runs, the worst of the last second, reported with
 * every heartbeat. Measured here, not with perf_hooks' monitorEventLoopDelay: its histogram
 * counts its own interval in every sample (an idle loop read 10 ms), and a reset each
 * heartbeat drops the sample that follows, which can be the one that spans a stall (a 400
 * ms block then read 4 ms).
 *
 * The 10 ms timer runs only while the loop works: 100 wake-ups a second cost an idle
 * worker about 5 ms of CPU a second, most of its idle cost. A request starting wakes it
 * (`wake()`, before the handler runs, so a handler that blocks is measured in full); a
 * heartbeat that finds the loop busy since the last one (performance.eventLoopUtilization)
 * wakes it too, so background work of the app is sampled from then on; it stops once a
 * heartbeat period passes with no request started or running (not by the loop's
 * utilization, nor by a late timer: on a loaded machine the sampler's own 100 wake-ups a
 * second read 2% and more, and timers ran 10 ms late without any stall in the app, which
 * kept it running in 8 idle workers). While it sleeps the
 * heartbeat timer's own lateness (`noteLate`) still counts, so a stall that delays a
 * heartbeat is never lost.
 */
export class LoopLag {
  private sampler: NodeJS.Timeout | null = null
  /** a request started since the last take */
  private touched = false
  private last = performance.now()
  private worst = 0
  private elu = performance.eventLoopUtilization()
  /** the worst of each take within the window */
  private readonly recent: { at: number; worst: number }[] = []

  constructor(private readonly everyMs = LOOP_RESOLUTION_MS) {
    // a worker that starts is busy booting: sample from the start
    this.wake()
  }

  /** whether the 10 ms sampler runs now */
  get sampling(): boolean {
    return this.sampler !== null
  }

  /** The loop has work (a request starts): sample it from now on, until it is idle again. */
  wake(): void {
    this.touched = true
    if (this.sampler) return
    this.last = performance.now()
    this.sampler = setInterval(() => this.note(performance.now()), this.everyMs)
    this.sampler.unref()
  }

  /** A timer that runs anyway (the heartbeat) ran `ms` after it was due. */
  noteLate(ms: number): void {
    if (ms > this.worst) this.worst = ms
  }

  private note(now: number): void {
    const late = now - this.last - this.everyMs
    if (late > this.worst) this.worst = late
    this.last = now
  }

  /**
   * The worst lateness in the last second, ms; a stall that ended just now counts here.
   * `busy`: a request is running, so the sampler keeps running even if the loop waits.
   */
  take(busy = false): number {
    const now = performance.now()
    if (this.sampler) this.note(now)
    const elu = performance.eventLoopUtilization(this.elu)
    this.elu = performance.eventLoopUtilization()
    if (this.sampler && !busy && !this.touched) {
      clearInterval(this.sampler)
      this.sampler = null
    } else if (!this.sampler && elu.active >= WAKE_ON_ACTIVE_MS && elu.utilization >= WAKE_ON_UTILIZATION) {
      this.wake()
    }
    this.touched = false
    this.recent.push({ at: now, worst: this.worst })
    this.worst = 0
    while (this.recent[0]!.at < now - LOOP_WINDOW_MS) this.recent.shift()
    let worst = 0
    for (const r of this.recent) if (r.worst > worst) worst = r.worst
    return worst
  }
}
