/**
 * --max-worker-memory (PM2's max_memory_restart): a worker whose resident memory stays above
 * the limit is recycled the way --max-requests does it: marked retiring, so its replacement
 * is spawned first and it drains only once that one is ready; no request fails. For gthread
 * the figure is the whole process, its threads included (they share its memory).
 *
 * "Stays above": two samples a second apart, so a short peak (a large upload parsed, a GC
 * about to run) does not cost a process. Sampled only while the limit is set.
 */
import { formatSize, parseSize } from '../platform/size.js'
import { residentBytes } from '../platform/process-figures.js'
import { retire, type WorkerRecord } from './worker-record.js'

export const MEMORY_SAMPLE_MS = 1000
/** samples in a row above the limit before the worker is recycled */
export const SAMPLES_ABOVE = 2

export interface MemoryVerdict {
  pid: number
  rss: number
  reason: string
}

/** Pure: given the samples so far and new ones, who is over for long enough. */
export class MemoryLimit {
  private above = new Map<number, number>()

  judge(limit: number, samples: Map<number, number | null>): MemoryVerdict[] {
    const out: MemoryVerdict[] = []
    for (const pid of this.above.keys()) if (!samples.has(pid)) this.above.delete(pid)
    for (const [pid, rss] of samples) {
      if (rss === null || rss <= limit) {
        this.above.delete(pid)
        continue
      }
      const n = (this.above.get(pid) ?? 0) + 1
      this.above.set(pid, n)
      if (n === SAMPLES_ABOVE) out.push({ pid, rss, reason: `memory: RSS ${formatSize(rss)} above --max-worker-memory ${formatSize(limit)}` })
    }
    return out
  }
}

/** The arbiter's side: sample the ready workers now and then, retire those over the limit. */
export class MemoryWatch {
  private readonly limitState = new MemoryLimit()
  private lastAt = 0
  private busy = false

  /** `retired`: a worker was marked retiring, with the line for the log */
  constructor(private readonly retired: (logLine: string) => void) {}

  /**
   * Called from the arbiter's loop with --max-worker-memory as set (unset: nothing to do) and
   * the live workers; samples those ready and not yet retiring, at most once a second.
   */
  check(setting: unknown, live: WorkerRecord[], now = Date.now()): void {
    if (!setting) return
    const limit = parseSize(String(setting))
    if (!(limit > 0) || this.busy || now - this.lastAt < MEMORY_SAMPLE_MS) return
    this.lastAt = now
    this.busy = true
    const ready = new Map(live.filter((w) => w.state === 'ready' && !w.retiring).map((w) => [w.pid, w]))
    residentBytes([...ready.keys()])
      .then((samples) => {
        for (const v of this.limitState.judge(limit, samples)) {
          // it may have drained or exited while it was sampled: retire() takes only a ready one
          if (retire(ready.get(v.pid)!, v.reason)) this.retired(`Worker ${v.pid} ${v.reason}: starting its replacement first`)
        }
      })
      .catch(() => {})
      .finally(() => (this.busy = false))
  }
}
