/**
 * Request accounting: what a worker counts about itself, reported to the arbiter in every
 * heartbeat. Spans are sampled so that a 50k req/s load sends a bounded number per heartbeat.
 *
 * It sits below the HTTP edge and the worker classes, which both count here; it imports
 * nothing of theirs.
 */
import { LATENCY_BOUNDS_MS, type RequestRef, type RequestSpan } from '../../shared/protocol.js'
import type { Socket } from 'node:net'
// The one import upward in the server: the heartbeat's wire type belongs to the
// arbiter <-> worker contract, a types-only file that imports nothing but src/shared.
// Everything below the runtime takes the type from here.
import type { WorkerStats } from '../worker/ipc.js'
export type { WorkerStats }
import { LoopLag } from './loop-lag.js'
import { kAcceptedAt, type PaddockSocket } from '../symbols.js'

/**
 * When the worker accepted this connection, for its first request only: that request may
 * have waited since then (for the client's bytes, or in the worker); a later request on a
 * kept-alive connection did not wait since the accept.
 */
export function takeAcceptedAt(socket: Socket): number | undefined {
  const s = socket as PaddockSocket
  const at = s[kAcceptedAt]
  if (at !== undefined) s[kAcceptedAt] = undefined
  return at
}

export function markAccepted(socket: Socket): void {
  ;(socket as PaddockSocket)[kAcceptedAt] = Date.now()
}

const MAX_DURATIONS = 512
const MAX_SPANS_PER_BEAT = 50
const MAX_IN_FLIGHT_REFS = 8

/**
 * Reservoir sampling: where the `seen`-th item goes in a sample of at most `max` that holds
 * `length` now (the end while there is room, then a random place with probability
 * max / seen), or -1 to leave it out. Every item ends up in the sample with equal chance.
 */
function sampleSlot(length: number, max: number, seen: number): number {
  if (length < max) return length
  const j = Math.floor(Math.random() * seen)
  return j < max ? j : -1
}

export interface ActiveRequest extends RequestRef {
  acceptedAt?: number
  /** where it stands in the worker's list of running requests (see WorkerCounters), -1 when not running */
  slot: number
}

export class WorkerCounters {
  requests = 0
  connections = 0
  upgraded = 0
  queued = 0
  threadsBusy = 0
  threadsTotal = 1
  threadSlots?: boolean[]
  /**
   * The requests running now. An array where each request knows its index, removed by
   * swapping the last one in: no hashing on the hot path (a Set cost ~0.5 µs a request
   * under a hello-world load, measured as CPU time per request).
   */
  private readonly running: ActiveRequest[] = []
  private durations: number[] = []
  /** the latency histogram: a count per bucket of LATENCY_BOUNDS_MS, and one above */
  private readonly latencyCounts: number[] = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0)
  private latencySumMs = 0
  private spans: RequestSpan[] = []
  private completedThisBeat = 0
  private readonly loop = new LoopLag()

  constructor(private readonly pid: number, private readonly generation: number) {}

  /** how many requests are running now */
  get inFlight(): number {
    return this.running.length
  }

  start(ref: ActiveRequest): void {
    this.loop.wake()
    ref.slot = this.running.length
    this.running.push(ref)
  }

  finish(ref: ActiveRequest, status: number): void {
    const at = ref.slot
    if (at < 0 || this.running[at] !== ref) return
    const last = this.running.pop()!
    if (last !== ref) {
      this.running[at] = last
      last.slot = at
    }
    ref.slot = -1
    this.requests++
    this.completedThisBeat++
    const durationMs = Date.now() - ref.startedAt
    let bucket = 0
    while (bucket < LATENCY_BOUNDS_MS.length && durationMs > LATENCY_BOUNDS_MS[bucket]!) bucket++
    this.latencyCounts[bucket]!++
    this.latencySumMs += durationMs
    // Uniform samples of this beat's durations and spans: the first ones alone would
    // describe only the start of each beat under load (and drew the timeline as clusters)
    const d = sampleSlot(this.durations.length, MAX_DURATIONS, this.completedThisBeat)
    if (d >= 0) this.durations[d] = durationMs
    const sp = sampleSlot(this.spans.length, MAX_SPANS_PER_BEAT, this.completedThisBeat)
    if (sp >= 0) this.spans[sp] = this.span(ref, status, durationMs)
  }

  private span(ref: ActiveRequest, status: number, durationMs: number): RequestSpan {
    return { pid: this.pid, generation: this.generation, thread: ref.thread ?? 0, method: ref.method, path: ref.url, status, acceptedAt: ref.acceptedAt, start: ref.startedAt, durationMs }
  }

  /** whether the loop-lag sampler runs (it sleeps while the loop idles) */
  get loopSampling(): boolean {
    return this.loop.sampling
  }

  /** The heartbeat's timer ran `ms` late: a stall the loop-lag sampler may have slept through. */
  noteLate(ms: number): void {
    this.loop.noteLate(ms)
  }

  inFlightRefs(): RequestRef[] {
    return [...this.running].sort((a, b) => a.startedAt - b.startedAt).slice(0, MAX_IN_FLIGHT_REFS).map(({ method, url, startedAt, thread }) => ({ method, url, startedAt, thread }))
  }

  /** Take the figures for one heartbeat and reset the per-beat parts. */
  beat(): { stats: WorkerStats; inFlight: RequestRef[]; spans: RequestSpan[]; droppedSpans: number } {
    const lag = this.loop.take(this.running.length > 0)
    const out = {
      stats: {
        requests: this.requests,
        inFlight: this.running.length,
        queued: this.queued,
        connections: this.connections,
        upgraded: this.upgraded,
        threadsBusy: this.threadsTotal > 1 ? this.threadsBusy : Math.min(this.running.length, 1),
        threadsTotal: this.threadsTotal,
        threadSlots: this.threadSlots ? [...this.threadSlots] : undefined,
        loopLagMs: Math.round(lag * 10) / 10,
        completed: this.completedThisBeat,
        latency: { counts: [...this.latencyCounts], sumMs: this.latencySumMs },
        durations: this.durations,
      },
      inFlight: this.inFlightRefs(),
      spans: this.spans,
      droppedSpans: this.completedThisBeat - this.spans.length,
    }
    this.durations = []
    this.spans = []
    this.completedThisBeat = 0
    return out
  }
}
