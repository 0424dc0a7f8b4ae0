/**
 * The recent history a control server keeps and replays to each new subscriber (a new tab
 * used to start blank: no events, charts from -3 s), and its export as JSON or CSV from
 * the dashboard and `paddock ctl export`. Pure functions, no runtime dependencies.
 */
import type { ArbiterSnapshot, ControlEvent } from './protocol.js'

/** 10 minutes at the default 4 Hz snapshot rate. */
export const HISTORY_REPLAY_POINTS = 2400
/** per-worker figures ride along only on the newest points (the cards' sparklines show 1 minute) */
export const HISTORY_REPLAY_WORKER_POINTS = 240
export const HISTORY_REPLAY_EVENTS = 500

export interface WorkerHistoryFigures {
  pid: number
  requests: number
  inFlight: number
  cpu: number | null
  rss: number | null
}

export interface HistoryPoint {
  /** ms since epoch */
  t: number
  rps: number
  p50: number | null
  p99: number | null
  inFlight: number
  queued: number
  /** the kernel's listen queues, summed */
  queueDepth: number
  workers: number
  perWorker?: WorkerHistoryFigures[]
}

export interface ReplayedHistory {
  points: HistoryPoint[]
  events: ControlEvent[]
}

export function pointOf(s: ArbiterSnapshot): HistoryPoint {
  const live = s.workers.filter((w) => w.state !== 'exited')
  let inFlight = 0
  let queued = 0
  for (const w of live) {
    inFlight += w.inFlight
    queued += w.queued
  }
  return {
    t: s.at,
    rps: s.rates.requestsPerSec,
    p50: s.rates.p50Ms,
    p99: s.rates.p99Ms,
    inFlight,
    queued,
    queueDepth: s.listeners.reduce((a, l) => a + (l.queueDepth ?? 0), 0),
    workers: live.length,
    perWorker: live.map((w) => ({ pid: w.pid, requests: w.requests, inFlight: w.inFlight, cpu: w.cpu, rss: w.rss })),
  }
}

/** Spans, access-log lines and load progress are too many to replay; lifecycle, errors and config changes are kept. */
export function isReplayed(e: ControlEvent): boolean {
  if (e.type === 'spans' || e.type === 'load.progress' || e.type === 'reload.progress') return false
  return e.type !== 'log' || e.stream === 'error'
}

const HISTORY_COLUMNS = ['time', 't_ms', 'requests_per_sec', 'p50_ms', 'p99_ms', 'in_flight', 'queued_in_workers', 'listen_queue', 'workers'] as const

function cell(v: unknown): string {
  if (v === null || v === undefined) return ''
  const s = typeof v === 'string' ? v : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : JSON.stringify(v)
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** RFC 4180 CSV, one row per point, with a header row. */
export function historyCsv(points: Omit<HistoryPoint, 'perWorker'>[]): string {
  const rows = points.map((p) => [new Date(p.t).toISOString(), p.t, p.rps, p.p50, p.p99, p.inFlight, p.queued, p.queueDepth, p.workers].map(cell).join(','))
  return [HISTORY_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n'
}

/** One row per event: time, type, pid, then the rest of the event as JSON. */
export function eventsCsv(events: ControlEvent[]): string {
  const rows = events.map((e) => {
    const { type, at, ...rest } = e
    const pid = 'pid' in rest ? rest.pid : null
    const message = e.type === 'log' ? e.message : null
    return [new Date(at).toISOString(), at, type, pid, message, JSON.stringify(rest)].map(cell).join(',')
  })
  return ['time,t_ms,type,pid,message,details', ...rows].join('\r\n') + '\r\n'
}
