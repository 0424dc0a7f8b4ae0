/**
 * One worker's record as the arbiter keeps it: created before the fork, changed by the
 * worker's messages and by its exit, and shown in the snapshot. The changes are functions
 * that touch only the record and say what the arbiter must do next (log, emit, run its loop),
 * so they are tested without a process (test/server/arbiter/worker-record.test.ts).
 */
import type { ChildProcess } from 'node:child_process'
import { silentAfterMs, type ControlEvent, type LogLevel, type RequestRef, type WorkerClassName, type WorkerFigures, type WorkerSnapshot, type WorkerState } from '../../shared/protocol.js'
import type { WorkerMessage, WorkerStats } from '../worker/ipc.js'
import type { ReportedTraits } from '../classes/worker-class.js'
import { crashLoopExit } from './backoff.js'

/** The arbiter's view of one worker process. */
export interface WorkerRecord {
  id: number
  /** PADDOCK_WORKER_ID: 0..N-1, taken over by its replacement (slots.ts) */
  slot: number
  /** -1 and null while `spawning` (before the fork) */
  pid: number
  child: ChildProcess | null
  generation: number
  workerClass: WorkerClassName
  state: WorkerState
  spawnedAt: number
  readyAt: number | null
  lastHeartbeat: number | null
  /** when the worker said its next heartbeat is due, ms after its last (it beats slowly while idle) */
  beatEveryMs: number | null
  stats: WorkerStats | null
  inFlight: RequestRef[]
  /** A request announced with {t:'req'} (may be blocking the loop). */
  lastStarted: RequestRef | null
  retiring: boolean
  /** the last time it was asked to give back kept-alive connections (see balance.ts) */
  shed?: { at: number }
  /** Why it is draining or why it was killed: the exit is then expected. */
  reason: string | null
  expectedExit: boolean
  abortedAt: number | null
  exitCode: number | null
  exitSignal: string | null
  bootError: string | null
  /** what its class lets the master ask of it, from its 'ready' (classes/worker-class.ts) */
  traits: ReportedTraits | null
  /** resolves once the arbiter has recorded the exit (from the child's exit event or the process-table check) */
  gone: Promise<void>
  markGone: () => void
}

/** A worker's figures before its first heartbeat. */
const NO_FIGURES: Omit<WorkerFigures, 'latency'> = {
  requests: 0, inFlight: 0, queued: 0, connections: 0, upgraded: 0, threadsBusy: 0, threadsTotal: 1, loopLagMs: 0,
}

/** The heartbeat's fields the arbiter keeps to itself (rates, balancing): never in a snapshot. */
type HeartbeatOnly = Exclude<keyof WorkerStats, keyof WorkerFigures>

function figuresOf(stats: WorkerStats): WorkerFigures {
  const { completed, durations, shedding, ...figures } = stats
  // Names every heartbeat-only field: one added to WorkerStats and not here fails to compile
  // instead of reaching every client (durations alone can be 512 numbers a worker).
  const left: Record<HeartbeatOnly, unknown> = { completed, durations, shedding }
  void left
  return figures
}

/**
 * A worker about to be forked (state `spawning`): what the pre_fork hook sees. `forked`
 * gives it its process, and it is `booting` from then on.
 */
export function createWorkerRecord(w: { id: number; generation: number; workerClass: WorkerClassName; slot: number }): WorkerRecord {
  let markGone!: () => void
  const gone = new Promise<void>((resolve) => (markGone = resolve))
  return {
    ...w,
    pid: -1,
    child: null,
    traits: null,
    state: 'spawning',
    spawnedAt: Date.now(),
    readyAt: null,
    lastHeartbeat: null,
    beatEveryMs: null,
    stats: null,
    inFlight: [],
    lastStarted: null,
    retiring: false,
    reason: null,
    expectedExit: false,
    abortedAt: null,
    exitCode: null,
    exitSignal: null,
    bootError: null,
    gone,
    markGone,
  }
}

export function forked(w: WorkerRecord, child: ChildProcess): void {
  w.child = child
  w.pid = child.pid ?? -1
  w.state = 'booting'
  w.spawnedAt = Date.now()
}

/** A line for the error log; `pid` only when the worker wrote it (else the master's). */
export interface LogLine {
  level: LogLevel
  message: string
  pid?: number
}

/** What the arbiter does after a worker's message changed its record, in this order. */
export interface MessageFollowup {
  /** it became ready now: the arbiter's first ready, the reload's next step, balancing */
  ready: boolean
  log: LogLine | null
  events: ControlEvent[]
  /** a state changed: run the loop now rather than at its pace */
  tick: boolean
}

/** A worker's message applied to its record. */
export function recordMessage(w: WorkerRecord, m: WorkerMessage, now: number): MessageFollowup {
  const next: MessageFollowup = { ready: false, log: null, events: [], tick: false }
  switch (m.t) {
    case 'booted':
      next.events.push({ type: 'worker.booted', at: now, pid: w.pid, generation: w.generation })
      break
    case 'ready': {
      if (w.state !== 'booting') break
      w.traits = m.traits ?? null
      w.state = 'ready'
      w.readyAt = now
      w.lastHeartbeat = now
      const bootMs = now - w.spawnedAt
      next.log = { level: 'debug', message: `Worker ready (pid: ${w.pid}) in ${bootMs} ms` }
      next.events.push({ type: 'worker.ready', at: now, pid: w.pid, generation: w.generation, bootMs })
      return { ...next, ready: true, tick: true }
    }
    case 'alive':
      heard(w, m.nextInMs, now)
      break
    case 'hb':
      heard(w, m.nextInMs, now)
      w.stats = m.stats
      w.inFlight = m.inFlight
      if (m.spans.length || m.droppedSpans) next.events.push({ type: 'spans', at: now, spans: m.spans, dropped: m.droppedSpans })
      break
    case 'req':
      w.lastStarted = m.request
      if (m.nextInMs !== undefined) w.beatEveryMs = m.nextInMs
      break
    case 'retire':
      if (!retire(w, `max requests reached (${m.requests})`)) break
      next.log = { level: 'info', message: `Worker ${w.pid} reached max requests (${m.requests}): starting its replacement first` }
      return { ...next, tick: true }
    case 'boot-error':
      w.bootError = m.error
      next.log = { level: 'error', message: `Worker ${w.pid} failed to boot: ${m.error}` }
      break
    case 'log':
      next.log = { level: m.level, message: m.message, pid: w.pid }
      break
    case 'access':
      next.events.push({ type: 'log', at: now, stream: 'access', level: 'info', pid: w.pid, message: m.line })
      break
  }
  return next
}

/** A beat: the worker's loop turns; the request it announced since is no longer the suspect. */
function heard(w: WorkerRecord, nextInMs: number, now: number): void {
  w.lastHeartbeat = now
  w.beatEveryMs = nextInMs
  w.lastStarted = null
}

/**
 * Recycle a ready worker, replacement first (--max-requests, --max-worker-memory): it stops
 * counting as serving, so a new one is spawned, and it drains once that one is ready
 * (reload.ts). False when it is not ready or already retiring.
 */
export function retire(w: WorkerRecord, reason: string): boolean {
  if (w.retiring || w.state !== 'ready') return false
  w.retiring = true
  w.reason = reason
  return true
}

type ExitedEvent = Extract<ControlEvent, { type: 'worker.exited' }>

/** What the arbiter does after an exit was recorded. */
export interface ExitFollowup {
  /** why it exited, as the log, the event and the snapshot say */
  reason: string
  event: ExitedEvent
  log: LogLine
  /** it counts toward a crash loop (backoff.ts crashLoopExit); `upMs`: it had been ready that long */
  crash: { upMs?: number } | null
}

/** A worker's exit recorded on its record; the caller records an exit only once. */
export function recordExit(w: WorkerRecord, code: number | null, signal: NodeJS.Signals | null, now: number): ExitFollowup {
  const wasDraining = w.state === 'draining'
  w.markGone()
  w.state = 'exited'
  w.exitCode = code
  w.exitSignal = signal
  const reason = w.bootError ? `boot failed: ${w.bootError}` : (w.reason ?? (signal ? `killed by ${signal}` : `exited with code ${code}`))
  w.reason = reason
  return {
    reason,
    event: { type: 'worker.exited', at: now, pid: w.pid, generation: w.generation, code, signal, reason, expected: w.expectedExit },
    log: w.expectedExit
      ? { level: 'info', message: `Worker exiting (pid: ${w.pid}): ${reason}` }
      : { level: 'warning', message: `Worker (pid: ${w.pid}) exited unexpectedly: ${reason}` },
    crash: crashLoopExit({ readyAt: w.readyAt, expected: w.expectedExit, wasDraining }, now),
  }
}

export function workerSnapshot(w: WorkerRecord): WorkerSnapshot {
  const s = w.stats
  // What it is running: the requests in flight at its last heartbeat. The request it last
  // announced (sent for the timeout log) has most likely finished long ago unless the
  // worker fell silent, so it counts only then.
  const silent = w.lastHeartbeat !== null && Date.now() - w.lastHeartbeat > silentAfterMs(w.beatEveryMs)
  const oldest = [...w.inFlight, ...(silent && w.lastStarted ? [w.lastStarted] : [])].sort((a, b) => a.startedAt - b.startedAt)[0]
  return {
    pid: w.pid,
    id: w.id,
    slot: w.slot,
    workerClass: w.workerClass,
    generation: w.generation,
    state: w.state,
    spawnedAt: w.spawnedAt,
    readyAt: w.readyAt,
    ...(s ? figuresOf(s) : NO_FIGURES),
    workerConnections: w.traits?.connectionCap,
    cpu: null,
    rss: null,
    lastHeartbeat: w.lastHeartbeat,
    heartbeatEveryMs: w.beatEveryMs,
    oldestRequest: (s && s.inFlight > 0) || (silent && w.lastStarted) ? oldest : undefined,
    exitCode: w.exitCode,
    exitSignal: w.exitSignal,
    reason: w.reason ?? undefined,
  }
}

/** The request a silent worker was most likely stuck in. */
export function stuckRequest(w: WorkerRecord): RequestRef | null {
  const candidates = [...w.inFlight, ...(w.lastStarted ? [w.lastStarted] : [])]
  if (!candidates.length) return null
  return candidates.sort((a, b) => a.startedAt - b.startedAt)[0]
}
