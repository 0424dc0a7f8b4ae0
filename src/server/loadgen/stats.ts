/**
 * Accumulates per-request outcomes into the LoadProgress shape. Kept apart from
 * the autocannon wiring so the classification and the figures can be unit-tested
 * and reused by the CLI summary.
 */
import type { LatencySummary, LoadErrors, LoadOptions, LoadProgress, LoadResult } from '../../shared/protocol.js'

/** Histogram upper bounds in ms; the last bucket catches everything above. */
export const BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, Infinity]

export type ErrorKind = keyof LoadErrors

/** Maps a socket/request error to a kind a student can reason about. */
export function classifyError(err: { code?: string; message?: string }): ErrorKind {
  const code = err.code ?? ''
  const msg = err.message ?? ''
  if (code === 'ECONNREFUSED') return 'refused'
  if (code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up/i.test(msg)) return 'reset'
  if (code === 'ETIMEDOUT' || /timed out/i.test(msg)) return 'timeout'
  return 'other'
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  return sorted[Math.max(0, i)]
}

export function summarize(values: number[]): LatencySummary {
  const s = [...values].sort((a, b) => a - b)
  const sum = s.reduce((a, b) => a + b, 0)
  return {
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s.length ? s[s.length - 1] : 0,
    mean: s.length ? Math.round((sum / s.length) * 100) / 100 : 0,
  }
}

interface Second { requests: number; errors: number; lat: number[] }

export class LoadStats {
  private latencies: number[] = []
  private seconds: Second[] = []
  readonly errors: LoadErrors = { refused: 0, reset: 0, timeout: 0, non2xx: 0, other: 0 }
  readonly statusCodes: Record<string, number> = {}
  requests = 0
  readonly startedAt = Date.now()

  constructor(readonly id: number, readonly options: LoadOptions) {}

  private second(now = Date.now()): Second {
    const i = Math.floor((now - this.startedAt) / 1000)
    while (this.seconds.length <= i) this.seconds.push({ requests: 0, errors: 0, lat: [] })
    return this.seconds[i]
  }

  response(status: number, rawMs: number): void {
    // autocannon reports fractional ms; two decimals are all a reader can use.
    const ms = Math.round(rawMs * 100) / 100
    this.requests++
    this.latencies.push(ms)
    this.statusCodes[String(status)] = (this.statusCodes[String(status)] ?? 0) + 1
    const sec = this.second()
    sec.requests++
    sec.lat.push(ms)
    if (status < 200 || status > 299) {
      this.errors.non2xx++
      sec.errors++
    }
  }

  error(kind: ErrorKind): void {
    this.errors[kind]++
    this.second().errors++
  }

  progress(running: boolean): LoadProgress {
    const now = Date.now()
    const elapsedSec = (now - this.startedAt) / 1000
    const o = this.options
    let progress = 0
    let remainingSec: number | null = null
    if (o.duration) {
      progress = Math.min(1, elapsedSec / o.duration)
      remainingSec = Math.max(0, o.duration - elapsedSec)
    } else if (o.amount) {
      progress = Math.min(1, this.requests / o.amount)
    }
    if (!running) progress = progress || 1
    // "last second": the requests completed in the trailing 1000 ms window.
    const cur = this.second(now)
    const idx = this.seconds.indexOf(cur)
    const frac = ((now - this.startedAt) % 1000) / 1000
    const prev = idx > 0 ? this.seconds[idx - 1].requests : 0
    const requestsPerSec = idx === 0 ? Math.round(cur.requests / Math.max(frac, 0.25)) : Math.round(cur.requests + prev * (1 - frac))
    const counts = BUCKETS_MS.map(() => 0)
    for (const v of this.latencies) counts[BUCKETS_MS.findIndex((le) => v <= le)]++
    return {
      id: this.id,
      options: o,
      startedAt: this.startedAt,
      progress,
      elapsedSec: Math.round(elapsedSec * 100) / 100,
      remainingSec: remainingSec === null ? null : Math.round(remainingSec * 100) / 100,
      requests: this.requests,
      requestsPerSec,
      latency: summarize(this.latencies),
      errors: { ...this.errors },
      perSecond: this.seconds.map((s, t) => {
        const l = summarize(s.lat)
        return { t, requests: s.requests, p50: l.p50, p99: l.p99, errors: s.errors }
      }),
      // JSON has no Infinity: the open-ended bucket is reported with le = -1.
      histogram: BUCKETS_MS.map((le, i) => ({ le: Number.isFinite(le) ? le : -1, count: counts[i] })),
      running,
    }
  }

  result(stoppedEarly: boolean): LoadResult {
    return { ...this.progress(false), finishedAt: Date.now(), statusCodes: { ...this.statusCodes }, stoppedEarly }
  }
}
