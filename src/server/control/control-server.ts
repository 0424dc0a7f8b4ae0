/**
 * ControlServer: the one in-process API every transport uses (unix socket, WebSocket
 * dashboard, Electron main). It enriches engine snapshots with samples, caps the event
 * stream, and turns every ControlCommand into a typed CommandResult; a bad command
 * becomes an error result, never an exception through the transport.
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

export class ControlServer {
  private readonly rateMs: number
  private readonly sampleMs: number
  private timer: NodeJS.Timeout | null = null
  private sampleTimer: NodeJS.Timeout | null = null
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
    this.latest = this.build()
    for (const e of arbiter.recentEvents?.() ?? startupEvents(this.latest)) this.recentEvents.push(e)
    this.unsubscribeEngine = arbiter.onEvent((e) => this.onEngineEvent(e))
    void this.sampleLoop()
    this.tick()
  }

  /** The latest enriched snapshot (built now if never built). */
  snapshot(): ArbiterSnapshot {
    return this.latest
  }

  /** For in-process hosts that want snapshots without the frame wrapper. */
  onSnapshot(fn: (s: ArbiterSnapshot) => void): () => void {
    this.snapshotListeners.add(fn)
    return () => this.snapshotListeners.delete(fn)
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
          this.clients.add(client)
          client.send({ type: 'welcome', protocol: PROTOCOL_VERSION, snapshot: this.latest, settings: safeSettings(this.arbiter), history: this.history() })
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
      },
    }
    return session
  }

  /** Run one command; never throws. */
  async execute(command: unknown): Promise<CommandResult> {
    try {
      return await runCommand(this.arbiter, command, () => this.latest, () => this.history())
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
    this.unsubscribeEngine()
    this.clients.clear()
    this.snapshotListeners.clear()
  }

  // ------------------------------------------------------------ internals

  /** setTimeout rescheduling: a slow send never makes ticks pile up. */
  private tick(): void {
    if (this.closed) return
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

  private async sampleLoop(): Promise<void> {
    if (this.closed) return
    // Cheap /proc reads land first; systeminformation can take a while on its first call.
    await Promise.all([
      this.sampler.sample(this.arbiter.workerPids()).then((p) => (this.procs = p)).catch(() => {}),
      readListenQueues().then((q) => (this.queues = q)).catch(() => {}),
      sampleSystem().then((s) => (this.system = s)).catch(() => {}),
    ])
    if (this.closed) return
    this.sampleTimer = setTimeout(() => void this.sampleLoop(), this.sampleMs)
    this.sampleTimer.unref()
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
