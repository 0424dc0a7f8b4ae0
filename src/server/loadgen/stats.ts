/**
 * Accumulates per-request outcomes into the LoadProgress shape. Kept apart from
 * the autocannon wiring so the classification and the figures can be unit-tested
 * and reused by the CLI summary.
 *
 * Latencies go into HDR histograms, never into a list: a progress tick runs on the
 * same event loop as the client, and sorting every latency on each tick cost 154 ms
 * at 100k samples (over a second at 1M), which throttled the client to 60% of
 * autocannon's rate. A tick now walks a fixed number of histogram buckets plus one
 * entry per elapsed second, whatever the number of samples.
 */
import * as hdr from 'hdr-histogram-js'
import type { LatencySummary, LoadErrors, LoadOptions, LoadProgress, LoadResult } from '../../shared/protocol.js'

/** Histogram upper bounds in ms; the last bucket catches everything above. */
export const BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, Infinity]

/** Distinct error causes kept by name; the rest are summed under OTHER_CAUSES. */
export const MAX_CAUSES = 12
export const OTHER_CAUSES = 'other causes'

export type ErrorKind = keyof LoadErrors

interface ErrorLike {
  code?: string
  message?: string
}

/** Maps a socket/request error to a kind a student can reason about. */
export function classifyError(err: ErrorLike): ErrorKind {
  const code = err.code ?? ''
  const msg = err.message ?? ''
  if (code === 'ECONNREFUSED') return 'refused'
  if (code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up/i.test(msg)) return 'reset'
  if (code === 'ETIMEDOUT' || /timed out/i.test(msg)) return 'timeout'
  return 'other'
}

const CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listens on that host and port)',
  ECONNRESET: 'connection reset by the server',
  EPIPE: 'server closed the connection while the request was written',
  ETIMEDOUT: 'connect timed out',
  ENOTFOUND: 'host not found (DNS)',
  EAI_AGAIN: 'host lookup failed for now (DNS)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available (out of local ports?)',
  EMFILE: 'too many open files in the load generator (raise ulimit -n or use fewer connections)',
  ECONNABORTED: 'connection aborted',
}

/**
 * The reason behind an error, in words a reader can act on, so a summary says
 * "connection refused" instead of "other 25". Keyed by code, not by message, so the
 * number of distinct causes stays small (messages carry addresses and ports).
 */
export function describeCause(err: ErrorLike): string {
  const code = err.code ?? ''
  if (CAUSES[code]) return `${code}: ${CAUSES[code]}`
  if (code.startsWith('HPE_')) return `${code}: the server's answer is not valid HTTP`
  if (code.startsWith('ERR_TLS') || code.includes('CERT')) return `${code}: TLS handshake failed`
  if (/timed out/i.test(err.message ?? '')) return 'timeout: no answer within --timeout'
  if (code) return code
  return (err.message ?? 'unknown error').slice(0, 80)
}

/** Latencies are recorded in microseconds: HDR histograms hold integers, and 3 digits of µs is what a reader can use. */
function newHistogram(): hdr.Histogram {
  // 1 µs .. 1 h at 3 significant digits: ~24k buckets (95 kB), fixed whatever the sample count.
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false })
}

const toMs = (us: number) => Math.round(us / 10) / 100

export function summarizeHistogram(h: hdr.Histogram, sumUs: number): LatencySummary {
  if (h.totalCount === 0) return { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 }
  // a percentile is its bucket's upper end, which can lie above the largest sample
  const max = h.maxValue
  const at = (p: number) => toMs(Math.min(max, h.getValueAtPercentile(p)))
  return {
    p50: at(50),
    p90: at(90),
    p99: at(99),
    max: toMs(max),
    mean: Math.round(sumUs / h.totalCount / 10) / 100,
  }
}

interface Second {
  requests: number
  errors: number
  p50: number
  p99: number
}

export class LoadStats {
  private readonly latency = newHistogram()
  private latencySumUs = 0
  /** The open second's latencies; its percentiles are frozen into `seconds` when it closes. */
  private readonly openSecond = newHistogram()
  private readonly seconds: Second[] = []
  private readonly bucketCounts = BUCKETS_MS.map(() => 0)
  readonly errors: LoadErrors = { refused: 0, reset: 0, timeout: 0, non2xx: 0, other: 0 }
  readonly errorCauses: Record<string, number> = {}
  readonly statusCodes: Record<string, number> = {}
  requests = 0
  readonly startedAt: number
  /** Loop iterations the last progress() made over its own data (tests bound it; see the header). */
  tickWork = 0

  constructor(
    readonly id: number,
    readonly options: LoadOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now()
  }

  /** The entry of the current second, closing (freezing) every second before it. */
  private second(now = this.now()): Second {
    const i = Math.floor((now - this.startedAt) / 1000)
    while (this.seconds.length <= i) {
      const closing = this.seconds[this.seconds.length - 1]
      if (closing) this.freeze(closing)
      this.seconds.push({ requests: 0, errors: 0, p50: 0, p99: 0 })
    }
    return this.seconds[i]
  }

  private freeze(s: Second): void {
    if (this.openSecond.totalCount > 0) {
      s.p50 = toMs(this.openSecond.getValueAtPercentile(50))
      s.p99 = toMs(this.openSecond.getValueAtPercentile(99))
      this.openSecond.reset()
    }
  }

  response(status: number, rawMs: number): void {
    const us = Math.max(0, Math.round(rawMs * 1000))
    const ms = us / 1000
    this.requests++
    const sec = this.second()
    this.latency.recordValue(us)
    this.openSecond.recordValue(us)
    this.latencySumUs += us
    let b = 0
    while (ms > BUCKETS_MS[b]) b++
    this.bucketCounts[b]++
    this.statusCodes[String(status)] = (this.statusCodes[String(status)] ?? 0) + 1
    sec.requests++
    if (status < 200 || status > 299) {
      this.errors.non2xx++
      sec.errors++
    }
  }

  error(kind: ErrorKind, cause?: string): void {
    this.errors[kind]++
    this.second().errors++
    if (cause === undefined) return
    const key = cause in this.errorCauses || Object.keys(this.errorCauses).length < MAX_CAUSES - 1 ? cause : OTHER_CAUSES
    this.errorCauses[key] = (this.errorCauses[key] ?? 0) + 1
  }

  progress(running: boolean): LoadProgress {
    const now = this.now()
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
    const idx = this.seconds.length - 1
    const frac = ((now - this.startedAt) % 1000) / 1000
    const prev = idx > 0 ? this.seconds[idx - 1].requests : 0
    const requestsPerSec = idx === 0 ? Math.round(cur.requests / Math.max(frac, 0.25)) : Math.round(cur.requests + prev * (1 - frac))
    // the open second's percentiles are provisional until it closes
    if (this.openSecond.totalCount > 0) {
      cur.p50 = toMs(this.openSecond.getValueAtPercentile(50))
      cur.p99 = toMs(this.openSecond.getValueAtPercentile(99))
    }
    this.tickWork = this.seconds.length + this.bucketCounts.length
    return {
      id: this.id,
      options: o,
      startedAt: this.startedAt,
      progress,
      elapsedSec: Math.round(elapsedSec * 100) / 100,
      remainingSec: remainingSec === null ? null : Math.round(remainingSec * 100) / 100,
      requests: this.requests,
      requestsPerSec,
      achievedRate: elapsedSec > 0 ? Math.round((this.requests / elapsedSec) * 10) / 10 : 0,
      latencyFrom: o.rate ? 'intended' : 'sent',
      latency: summarizeHistogram(this.latency, this.latencySumUs),
      errors: { ...this.errors },
      errorCauses: { ...this.errorCauses },
      perSecond: this.seconds.map((s, t) => ({ t, requests: s.requests, p50: s.p50, p99: s.p99, errors: s.errors })),
      // JSON has no Infinity: the open-ended bucket is reported with le = -1.
      histogram: BUCKETS_MS.map((le, i) => ({ le: Number.isFinite(le) ? le : -1, count: this.bucketCounts[i] })),
      running,
    }
  }

  /** Bytes the latency histograms hold (what a percentile query walks): fixed at construction, whatever the sample count. */
  get histogramBytes(): number {
    return this.latency.estimatedFootprintInBytes + this.openSecond.estimatedFootprintInBytes
  }

  result(stoppedEarly: boolean): LoadResult {
    return { ...this.progress(false), finishedAt: this.now(), statusCodes: { ...this.statusCodes }, stoppedEarly }
  }
}
