/**
 * `--fail-on p99>200ms,errors>1%`: conditions that fail a run, for CI (k6's thresholds,
 * written as the failure rather than the pass). Each names a measured figure, a
 * comparison and a limit; the run fails when any condition holds.
 */
import type { LoadResult } from '../../shared/protocol.js'

export type Metric = 'p50' | 'p90' | 'p99' | 'max' | 'mean' | 'errors' | 'rps'
type Op = '>' | '>=' | '<' | '<='

export interface Threshold {
  /** as written, e.g. "p99>200ms" */
  text: string
  metric: Metric
  op: Op
  /** in ms for latencies, percent or count for errors, req/s for rps */
  limit: number
  /** errors only: the limit is a share of all outcomes */
  percent: boolean
}

export interface ThresholdOutcome {
  threshold: Threshold
  actual: number
  crossed: boolean
  /** e.g. "p99 was 312 ms (limit > 200 ms)" */
  message: string
}

const LATENCY = new Set(['p50', 'p90', 'p99', 'max', 'mean'])
const UNIT_MS: Record<string, number> = { '': 1, ms: 1, s: 1000, us: 0.001, µs: 0.001 }

/** Parses the list; throws an Error naming the bad entry and what is accepted. */
export function parseThresholds(spec: string): Threshold[] {
  const out: Threshold[] = []
  for (const raw of spec.split(',')) {
    const text = raw.trim()
    if (!text) continue
    const m = /^([a-z0-9]+)\s*(>=|<=|>|<)\s*([0-9]*\.?[0-9]+)\s*(%|ms|s|us|µs|\/s)?$/i.exec(text)
    const help = 'write METRIC>VALUE, METRIC one of p50 p90 p99 max mean (ms, s), errors (count or %), rps (req/s); e.g. p99>200ms,errors>1%'
    if (!m) throw new Error(`--fail-on: cannot read "${text}": ${help}`)
    const metric = m[1].toLowerCase()
    const op = m[2] as Op
    const value = Number(m[3])
    const unit = (m[4] ?? '').toLowerCase()
    if (LATENCY.has(metric)) {
      if (!(unit in UNIT_MS)) throw new Error(`--fail-on: "${text}": a latency limit is in ms or s`)
      out.push({ text, metric: metric as Metric, op, limit: value * UNIT_MS[unit], percent: false })
    } else if (metric === 'errors') {
      if (unit !== '' && unit !== '%') throw new Error(`--fail-on: "${text}": an errors limit is a count or a percentage`)
      out.push({ text, metric, op, limit: value, percent: unit === '%' })
    } else if (metric === 'rps') {
      if (unit !== '' && unit !== '/s') throw new Error(`--fail-on: "${text}": an rps limit is in requests per second`)
      out.push({ text, metric, op, limit: value, percent: false })
    } else {
      throw new Error(`--fail-on: unknown metric "${m[1]}" in "${text}": ${help}`)
    }
  }
  if (out.length === 0) throw new Error('--fail-on: no condition given (e.g. p99>200ms,errors>1%)')
  return out
}

/** Failed outcomes: transport errors and non-2xx answers. */
export function errorCount(r: LoadResult): number {
  const e = r.errors
  return e.refused + e.reset + e.timeout + e.non2xx + e.other
}

/** Every outcome: answers (any status) plus requests that got none. */
export function outcomeCount(r: LoadResult): number {
  const e = r.errors
  return r.requests + e.refused + e.reset + e.timeout + e.other
}

export function meanRate(r: LoadResult): number {
  return r.requests / Math.max(0.001, (r.finishedAt - r.startedAt) / 1000)
}

function holds(actual: number, op: Op, limit: number): boolean {
  if (op === '>') return actual > limit
  if (op === '>=') return actual >= limit
  if (op === '<') return actual < limit
  return actual <= limit
}

const round = (n: number) => Math.round(n * 100) / 100

export function evaluateThresholds(r: LoadResult, thresholds: Threshold[]): ThresholdOutcome[] {
  return thresholds.map((t) => {
    let actual: number
    let unit: string
    if (t.metric === 'errors') {
      const n = errorCount(r)
      actual = t.percent ? (n / Math.max(1, outcomeCount(r))) * 100 : n
      unit = t.percent ? '%' : ''
    } else if (t.metric === 'rps') {
      actual = meanRate(r)
      unit = ' req/s'
    } else {
      actual = r.latency[t.metric]
      unit = ' ms'
    }
    const crossed = holds(actual, t.op, t.limit)
    return { threshold: t, actual, crossed, message: `${t.metric} was ${round(actual)}${unit} (fails when ${t.op} ${round(t.limit)}${unit})` }
  })
}
