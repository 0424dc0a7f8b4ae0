/**
 * ControlServer: the one in-process API every transport uses (unix socket, WebSocket
 * dashboard, Electron main). It enriches engine snapshots with samples, caps the event
 * stream, and turns every ControlCommand into a typed CommandResult; a bad command
 * becomes an error result, never an exception through the transport.
 *
 * It samples processes and pushes snapshots only while someone watches: a welcomed client
 * (dashboard, `ctl watch`), an onSnapshot listener (Electron main) or a hold (statsd). An
 * idle server nobody watches then costs nothing here (sampling /proc and building 4
 * snapshots a second cost the master ~5 ms of CPU a second). A one-off reader (a metrics
 * scrape, `ctl status`) gets a snapshot sampled on demand: CPU % is then the average since
 * the previous sample.
 */
import type { ArbiterApi } from '../arbiter/api.js'
import {
  ACCESS_LOG_EVENT_CAP_PER_SEC,
  PROTOCOL_VERSION,
  SPAN_CAP_PER_SEC,
  type ArbiterSnapshot,
  type ClientFrame,
  type CommandResult,
  type ControlEvent,
  type ServerFrame,
  type SystemSnapshot,
} from '../../shared/protocol.js'
import { controlCode, type ControlErrorCode } from '../../shared/errors.js'
import { isPaddockError } from '../errors.js'
import { readListenQueues } from './proc-net.js'
import { ProcSampler, sampleSystem, type ProcSample } from './sampler.js'
import { runCommand } from './commands.js'
import { Ring } from '../../shared/ring.js'
import { HISTORY_REPLAY_EVENTS, HISTORY_REPLAY_POINTS, HISTORY_REPLAY_WORKER_POINTS, isReplayed, pointOf, type HistoryPoint, type ReplayedHistory } from '../../shared/history.js'

export interface ControlServerOptions {
  /** snapshot rate, Hz (default 4) */
  rateHz?: number
  /** process / system sampling period, ms (default 1000) */
  sampleMs?: number
  /** a history point this often while nobody watches, ms (default UNWATCHED_HISTORY_MS) */
  unwatchedHistoryMs?: number
}

/** A connected client: the transport gives a send function; the server returns handlers. */
export interface ControlClient {
  send(frame: ServerFrame): void
  /** Called after an error frame the client cannot recover from (bad protocol). */
  close?(reason: string): void
}

export interface ControlSession {
  /** Feed one decoded frame from the client. */
  receive(frame: unknown): Promise<void>
  close(): void
}

/** a history point while nobody watches: a master wake-up this often costs nothing measurable */
const UNWATCHED_HISTORY_MS = 5000

export class ControlServer {
  private readonly rateMs: number
  private readonly sampleMs: number
  private timer: NodeJS.Timeout | null = null
  private sampleTimer: NodeJS.Timeout | null = null
  /** while nobody watches: a history point every UNWATCHED_HISTORY_MS, so a tab opened later still sees the last minutes */
  private historyTimer: NodeJS.Timeout | null = null
  private readonly unwatchedHistoryMs: number
  /** the sample round running or last run, which an on-demand snapshot waits for */
  private sampling: Promise<void> | null = null
  private sampledAt = 0
  private sampleRunning = false
  /** the number of the sampling loop that may run (see sampleLoop) */
  private loopRun = 0
  /** holds on the push and sampling loops besides clients and snapshot listeners (statsd) */
  private holds = 0
  private closed = false
  private latest: ArbiterSnapshot
  private procs = new Map<number, ProcSample>()
  private system: SystemSnapshot | null = null
  private queues = new Map<number, number>()
  private readonly sampler = new ProcSampler()
  private readonly clients = new Set<ControlClient>()
  private readonly snapshotListeners = new Set<(s: ArbiterSnapshot) => void>()
  private readonly unsubscribeEngine: () => void
  // per-second budgets for spans and access log events
  private windowStart = 0
  private spansSent = 0
  private accessSent = 0
  // what a new subscriber is replayed (and `ctl export` reads): the last 10 minutes
  private readonly points = new Ring<HistoryPoint>(HISTORY_REPLAY_POINTS)
  private readonly recentEvents = new Ring<ControlEvent>(HISTORY_REPLAY_EVENTS)

  constructor(
    readonly arbiter: ArbiterApi,
    opts: ControlServerOptions = {},
  ) {
    this.rateMs = 1000 / (opts.rateHz ?? 4)
    this.sampleMs = opts.sampleMs ?? 1000
    this.unwatchedHistoryMs = opts.unwatchedHistoryMs ?? UNWATCHED_HISTORY_MS
    this.latest = this.build()
    for (const e of arbiter.recentEvents?.() ?? startupEvents(this.latest)) this.recentEvents.push(e)
    this.unsubscribeEngine = arbiter.onEvent((e) => this.onEngineEvent(e))
    this.watchersChanged()
  }

  /** The latest enriched snapshot; built now when nobody watches (nothing pushes one then). */
  snapshot(): ArbiterSnapshot {
    if (!this.watched() && !this.closed) this.latest = this.build()
    return this.latest
  }

  /** A snapshot with process samples no older than the sampling period (for one-off readers: metrics scrapes, `ctl status`). */
  async sampledSnapshot(): Promise<ArbiterSnapshot> {
    if (performance.now() - this.sampledAt > this.sampleMs && !this.watched()) await this.sampleOnce()
    else if (this.sampling) await this.sampling
    if (this.watched()) this.latest = this.build()
    return this.snapshot()
  }

  /** For in-process hosts that want snapshots without the frame wrapper. */
  onSnapshot(fn: (s: ArbiterSnapshot) => void): () => void {
    this.snapshotListeners.add(fn)
    this.watchersChanged()
    return () => {
      this.snapshotListeners.delete(fn)
      this.watchersChanged()
    }
  }

  /** Keep sampling and building snapshots (for a reader that polls snapshot(), like statsd); returns the release. */
  hold(): () => void {
    this.holds++
    this.watchersChanged()
    let released = false
    return () => {
      if (released) return
      released = true
      this.holds--
      this.watchersChanged()
    }
  }

  /** Attach a client. It must send hello first; then it gets snapshots, events, results. */
  subscribe(client: ControlClient): ControlSession {
    let welcomed = false
    const session: ControlSession = {
      receive: async (raw) => {
        const frame = raw as ClientFrame
        if (!frame || typeof frame !== 'object' || typeof (frame as { type?: unknown }).type !== 'string') {
          client.send(errorFrame('PADDOCK_ERR_BAD_COMMAND', 'frame must be a JSON object with a "type"'))
          return
        }
        if (frame.type === 'hello') {
          if (frame.protocol !== PROTOCOL_VERSION) {
            client.send(
              errorFrame(
                'PADDOCK_ERR_PROTOCOL',
                `client speaks protocol ${String(frame.protocol)} but this server speaks protocol ${PROTOCOL_VERSION}; use matching paddock versions`,
              ),
            )
            client.close?.('protocol version mismatch')
            return
          }
          welcomed = true
          // welcome first: the first watcher starts the push loop, whose first snapshot goes out at once
          client.send({ type: 'welcome', protocol: PROTOCOL_VERSION, snapshot: this.snapshot(), settings: safeSettings(this.arbiter), history: this.history() })
          this.clients.add(client)
          this.watchersChanged()
          return
        }
        if (frame.type === 'command') {
          const id = typeof frame.id === 'number' ? frame.id : 0
          if (!welcomed) {
            client.send({ type: 'result', id, result: fail('PADDOCK_ERR_PROTOCOL', 'send hello before any command') })
            return
          }
          const result = await this.execute(frame.command)
          client.send({ type: 'result', id, result })
          return
        }
        client.send(errorFrame('PADDOCK_ERR_BAD_COMMAND', `unknown frame type "${String((frame as { type: unknown }).type)}"`))
      },
      close: () => {
        this.clients.delete(client)
        this.watchersChanged()
      },
    }
    return session
  }

  /** Run one command; never throws. */
  async execute(command: unknown): Promise<CommandResult> {
    try {
      return await runCommand(this.arbiter, command, () => this.sampledSnapshot(), () => this.history())
    } catch (err) {
      if (isPaddockError(err)) return fail(controlCode(err.code), err.message)
      return fail('PADDOCK_ERR_INTERNAL', err instanceof Error ? err.message : String(err))
    }
  }

  /** The recent points and events, oldest first; per-worker figures only on the newest points. */
  history(): ReplayedHistory {
    const points = this.points.toArray()
    const cut = points.length - HISTORY_REPLAY_WORKER_POINTS
    return { points: points.map((p, i) => (i < cut ? { ...p, perWorker: undefined } : p)), events: this.recentEvents.toArray() }
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    if (this.sampleTimer) clearTimeout(this.sampleTimer)
    if (this.historyTimer) clearTimeout(this.historyTimer)
    this.unsubscribeEngine()
    this.clients.clear()
    this.snapshotListeners.clear()
  }

  // ------------------------------------------------------------ internals

  private watched(): boolean {
    return this.clients.size > 0 || this.snapshotListeners.size > 0 || this.holds > 0
  }

  /** Start the push and sampling loops when the first watcher comes, stop them when the last goes. */
  private watchersChanged(): void {
    if (this.closed) return
    if (this.watched() && this.historyTimer) {
      clearTimeout(this.historyTimer)
      this.historyTimer = null
    } else if (!this.watched() && !this.historyTimer) this.recordUnwatched()
    const running = this.timer !== null
    if (this.watched() && !running) {
      void this.sampleLoop(++this.loopRun)
      this.tick()
    } else if (!this.watched() && running) {
      this.loopRun++
      clearTimeout(this.timer!)
      this.timer = null
      if (this.sampleTimer) clearTimeout(this.sampleTimer)
      this.sampleTimer = null
    }
  }

  /**
   * The history keeps going while nobody watches, at a slower pace than the 4 Hz push: one
   * snapshot built from what the workers last reported (no process sampling), every few
   * seconds. A dashboard opened after an unwatched hour still replays its last minutes.
   */
  private recordUnwatched(): void {
    this.historyTimer = setTimeout(() => {
      this.historyTimer = null
      if (this.closed || this.watched()) return
      try {
        this.latest = this.build()
        this.points.push(pointOf(this.latest))
      } catch {
        // as in tick: one failed snapshot must not end the history
      }
      this.recordUnwatched()
    }, this.unwatchedHistoryMs)
    this.historyTimer.unref()
  }

  /** setTimeout rescheduling: a slow send never makes ticks pile up. */
  private tick(): void {
    if (this.closed || !this.watched()) return
    try {
      this.latest = this.build()
      this.points.push(pointOf(this.latest))
      this.broadcast({ type: 'snapshot', snapshot: this.latest })
      for (const fn of this.snapshotListeners) fn(this.latest)
    } catch {
      // the engine snapshot failing once must not stop the stream
    }
    this.timer = setTimeout(() => this.tick(), this.rateMs)
    this.timer.unref()
  }

  /** `run`: this loop's number; a loop stopped (and maybe started again) meanwhile ends. */
  private async sampleLoop(run: number): Promise<void> {
    if (this.closed || run !== this.loopRun) return
    await this.sampleOnce()
    if (this.closed || run !== this.loopRun) return
    this.sampleTimer = setTimeout(() => void this.sampleLoop(run), this.sampleMs)
    this.sampleTimer.unref()
  }

  /** One round of process, listen queue and system samples (joined if one runs already). */
  private sampleOnce(): Promise<void> {
    if (this.sampleRunning && this.sampling) return this.sampling
    this.sampleRunning = true
    const round = (async () => {
      // Cheap /proc reads land first; systeminformation can take a while on its first call.
      await Promise.all([
        this.sampler.sample(this.arbiter.workerPids()).then((p) => (this.procs = p)).catch(() => {}),
        readListenQueues().then((q) => (this.queues = q)).catch(() => {}),
        sampleSystem().then((s) => (this.system = s)).catch(() => {}),
      ])
      this.sampledAt = performance.now()
      this.sampleRunning = false
    })()
    this.sampling = round
    return round
  }

  private build(): ArbiterSnapshot {
    const s = this.arbiter.snapshot()
    return {
      ...s,
      protocol: PROTOCOL_VERSION,
      system: this.system ?? s.system,
      workers: s.workers.map((w) => {
        const p = this.procs?.get(w.pid)
        return p ? { ...w, cpu: p.cpu, rss: p.rss } : w
      }),
      listeners: s.listeners.map((l) => ({
        ...l,
        queueDepth: l.kind === 'tcp' && l.port !== undefined ? (this.queues?.get(l.port) ?? null) : null,
      })),
    }
  }

  private onEngineEvent(event: ControlEvent): void {
    const now = Date.now()
    if (now - this.windowStart >= 1000) {
      this.windowStart = now
      this.spansSent = 0
      this.accessSent = 0
    }
    if (event.type === 'spans') {
      const room = Math.max(0, SPAN_CAP_PER_SEC - this.spansSent)
      if (room === 0) return
      const spans = event.spans.slice(0, room)
      this.spansSent += spans.length
      event = { ...event, spans, dropped: event.dropped + (event.spans.length - spans.length) }
    } else if (event.type === 'log' && event.stream === 'access') {
      if (this.accessSent >= ACCESS_LOG_EVENT_CAP_PER_SEC) return
      this.accessSent++
    }
    if (isReplayed(event)) this.recentEvents.push(event)
    this.broadcast({ type: 'event', event })
  }

  private broadcast(frame: ServerFrame): void {
    for (const c of this.clients) {
      try {
        c.send(frame)
      } catch {
        this.clients.delete(c)
      }
    }
  }
}

/**
 * A control plane opened after the first workers started (the serve path opens it once the
 * arbiter runs) missed their spawned / ready events; the snapshot knows when each happened.
 */
function startupEvents(s: ArbiterSnapshot): ControlEvent[] {
  const out: ControlEvent[] = []
  for (const w of s.workers) {
    if (w.state === 'exited') continue
    out.push({ type: 'worker.spawned', at: w.spawnedAt, pid: w.pid, generation: w.generation, workerClass: w.workerClass })
    if (w.readyAt !== null) out.push({ type: 'worker.ready', at: w.readyAt, pid: w.pid, generation: w.generation, bootMs: w.readyAt - w.spawnedAt })
  }
  return out.sort((a, b) => a.at - b.at)
}

function safeSettings(arbiter: ArbiterApi) {
  try {
    return arbiter.settings()
  } catch {
    return []
  }
}

export function fail(code: ControlErrorCode, message: string): CommandResult {
  return { ok: false, error: { code, message } }
}

function errorFrame(code: ControlErrorCode, message: string): ServerFrame {
  return { type: 'error', error: { code, message } }
}
