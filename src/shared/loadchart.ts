/**
 * What the chart of a load run plots, in one place so the dashboard's chart and
 * `paddock load --svg` draw the same figures. Pure functions, no dependencies.
 */
import type { LoadProgress } from './protocol.js'

/**
 * A last second shorter than this is left out of the req/s line: at the end of a
 * duration run it holds only the stragglers still in flight, not a rate. Longer
 * partial seconds are scaled by their real length.
 */
export const MIN_PARTIAL_SEC = 0.5

export interface PlottedSecond {
  /** seconds since the start of the run */
  t: number
  /** requests per second, the last partial second scaled by its real length */
  rps: number
  p99: number
  /** how much of this second the run covered (1 except perhaps for the last) */
  coveredSec: number
}

export interface PlottedSeconds {
  points: PlottedSecond[]
  /** what was done to the last, partial second, for the figure's legend; null if nothing */
  note: string | null
}

/** The per-second points of a run, with its last, partial second dropped or scaled, never plotted as a full one. */
export function plottedSeconds(run: Pick<LoadProgress, 'perSecond' | 'elapsedSec'>): PlottedSeconds {
  const points: PlottedSecond[] = run.perSecond.map((s) => ({ t: s.t, rps: s.requests, p99: s.p99, coveredSec: 1 }))
  const last = points[points.length - 1]
  if (!last) return { points, note: null }
  const covered = Math.max(0, Math.min(1, run.elapsedSec - last.t))
  // elapsedSec is rounded to 10 ms: a second within that of full is full
  if (covered >= 0.99) return { points, note: null }
  if (covered < MIN_PARTIAL_SEC && points.length > 1) {
    points.pop()
    return { points, note: `last ${covered.toFixed(2)} s not plotted (partial second)` }
  }
  last.coveredSec = covered
  last.rps = Math.round(last.rps / Math.max(covered, 0.1))
  return { points, note: `last point: ${covered.toFixed(2)} s, scaled to req/s` }
}

/**
 * Labels of the latency histogram's buckets, by what each holds: "≤200" is 100-200 ms
 * (a bare "200" under a bar read as "took 200 ms" when the median was 102). JSON has no
 * Infinity, so the open last bucket arrives with le = -1 and reads ">5k" (ms).
 */
export function bucketLabels(histogram: { le: number }[]): string[] {
  // thousands as "k": "≤1000≤2000≤5000>5000" ran into each other under narrow bars
  const ms = (n: number) => (n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n))
  let prev = 0
  return histogram.map((b) => {
    if (b.le < 0 || !Number.isFinite(b.le)) return `>${ms(prev)}`
    prev = b.le
    return `≤${ms(b.le)}`
  })
}
