/**
 * The worker's event-loop lag, for its heartbeat (see WorkerCounters).
 */
/** how often the event loop's lag is sampled */
const LOOP_RESOLUTION_MS = 10
/** how long a stall keeps showing: a 4 Hz dashboard or a once-a-second poll must not miss it */
const LOOP_WINDOW_MS = 1000

/**
 * Event-loop lag: how late a 10 ms timer runs, the worst of the last second, reported with
 * every heartbeat. Measured here, not with perf_hooks' monitorEventLoopDelay: its histogram
 * counts its own interval in every sample (an idle loop read 10 ms), and a reset each
 * heartbeat drops the sample that follows, which can be the one that spans a stall (a 400
 * ms block then read 4 ms).
 */
export class LoopLag {
  private last = performance.now()
  private worst = 0
  /** the worst of each take within the window */
  private readonly recent: { at: number; worst: number }[] = []

  constructor(private readonly everyMs = LOOP_RESOLUTION_MS) {
    setInterval(() => this.note(performance.now()), everyMs).unref()
  }

  private note(now: number): void {
    const late = now - this.last - this.everyMs
    if (late > this.worst) this.worst = late
    this.last = now
  }

  /** The worst lateness in the last second, ms; a stall that ended just now counts here. */
  take(): number {
    const now = performance.now()
    this.note(now)
    this.recent.push({ at: now, worst: this.worst })
    this.worst = 0
    while (this.recent[0]!.at < now - LOOP_WINDOW_MS) this.recent.shift()
    let worst = 0
    for (const r of this.recent) if (r.worst > worst) worst = r.worst
    return worst
  }
}
