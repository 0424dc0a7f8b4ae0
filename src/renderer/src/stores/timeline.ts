/**
 * Request spans for the timeline: the engine samples them (at most SPAN_CAP_PER_SEC) and we
 * keep the last 60 s. Also the Little's-law figures: arrival rate λ (completed requests per
 * second, from the engine), mean time in system W, L = λ·W, next to the number of requests
 * measured in the system.
 *
 * "The system" is what a client waits in: the kernel's listen queue, a worker's own queue,
 * and the handler. Leaving the listen queue out showed W 101 ms, L 2, "measured 2" while 98
 * connections waited in the kernel and clients saw 4.3 s (issue 19). So W is the time
 * clients see: the load generator's mean latency while it runs, otherwise the service time
 * from the spans plus the listen-queue wait estimated by Little's law on the queue itself
 * (queue length / λ); and the measured figure counts the listen queue, averaged over the
 * last 5 s of snapshots (one instant often catches a CPU-bound worker between requests).
 */
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { ArbiterSnapshot, RequestSpan } from '@shared/protocol'

export const SPAN_KEEP_MS = 60_000
/** the window over which W and the measured count are averaged */
export const LITTLE_WINDOW_MS = 5000

interface SystemSample {
  t: number
  inFlight: number
  queued: number
  listenQueue: number
  rate: number
}

export const useTimelineStore = defineStore('timeline', () => {
  const spans = shallowRef<RequestSpan[]>([])
  const frozen = shallowRef<RequestSpan[] | null>(null)
  const frozenAt = ref<number | null>(null)
  const windowSec = ref(10)
  const dropped = ref(0)
  const now = ref(Date.now())
  /** the engine's completed requests per second, now */
  const rateNow = ref(0)
  const inFlight = ref(0)
  /** running, waiting inside the workers (gthread's queue) and in the kernel's listen queue, now */
  const inSystem = ref(0)
  const listenQueue = ref(0)
  const samples = shallowRef<SystemSample[]>([])
  /** the load generator's mean latency (ms) while a run is measuring, else null */
  const clientMeanMs = ref<number | null>(null)

  function addSpans(batch: RequestSpan[], droppedNow: number): void {
    dropped.value += droppedNow
    const cut = Date.now() - SPAN_KEEP_MS
    spans.value = spans.value.filter((s) => s.start + s.durationMs >= cut).concat(batch)
  }

  function onSnapshot(s: ArbiterSnapshot): void {
    now.value = s.at
    rateNow.value = s.rates.requestsPerSec
    const live = s.workers.filter((w) => w.state !== 'exited')
    inFlight.value = live.reduce((a, w) => a + w.inFlight, 0)
    listenQueue.value = s.listeners.reduce((a, l) => a + (l.queueDepth ?? 0), 0)
    inSystem.value = live.reduce((a, w) => a + w.inFlight + (w.queued ?? 0), 0) + listenQueue.value
    const cut = s.at - LITTLE_WINDOW_MS
    samples.value = [...samples.value.filter((x) => x.t > cut), { t: s.at, inFlight: inFlight.value, queued: inSystem.value - inFlight.value - listenQueue.value, listenQueue: listenQueue.value, rate: s.rates.requestsPerSec }]
    const load = s.load
    clientMeanMs.value = load && load.running && !load.warmingUp && load.requests > 0 ? load.latency.mean : null
  }

  function pause(p: boolean): void {
    frozen.value = p ? spans.value : null
    frozenAt.value = p ? now.value : null
  }

  const paused = computed(() => frozen.value !== null)
  const shown = computed(() => frozen.value ?? spans.value)
  const end = computed(() => frozenAt.value ?? now.value)

  const average = (pick: (x: SystemSample) => number) => (samples.value.length ? samples.value.reduce((a, x) => a + pick(x), 0) / samples.value.length : 0)
  /** requests in the system, averaged over the window */
  // λ, W and the measured count over the same 5 s: after a load ends, "λ 0, measured 27.8" mixed an instant with a window
  const lambda = computed(() => average((x) => x.rate))
  /**
   * Requests in service, time-averaged from the spans: a sync worker heartbeats from its event
   * loop, so under CPU-bound requests every heartbeat falls between two requests and says 0
   * in flight ("implied L 2.0, measured 0"). The spans are sampled (at most 200/s), so under
   * high rates they undercount and the heartbeats' figure is the larger: the larger one is used.
   */
  const spanBusy = computed(() => {
    const to = now.value
    const from = to - LITTLE_WINDOW_MS
    let busy = 0
    for (const s of spans.value) busy += Math.max(0, Math.min(to, s.start + s.durationMs) - Math.max(from, s.start))
    return busy / LITTLE_WINDOW_MS
  })
  const measuredL = computed(() => Math.max(average((x) => x.inFlight), spanBusy.value) + average((x) => x.queued) + average((x) => x.listenQueue))
  const meanListenQueue = computed(() => average((x) => x.listenQueue))

  /** time inside the workers over the last 5 s of spans: the handler, plus the wait in a worker's queue where known */
  const serviceSec = computed(() => {
    const from = now.value - LITTLE_WINDOW_MS
    const recent = spans.value.filter((s) => s.start + s.durationMs >= from)
    if (!recent.length) return 0
    const total = recent.reduce((a, s) => a + s.durationMs + (s.acceptedAt !== undefined ? Math.max(0, s.start - s.acceptedAt) : 0), 0)
    return total / recent.length / 1000
  })
  /** the wait in the kernel's listen queue, by Little's law on the queue: length / arrival rate */
  const queueWaitSec = computed(() => (lambda.value > 0 ? meanListenQueue.value / lambda.value : 0))
  const wSource = computed<'load generator' | 'spans + listen queue'>(() => (clientMeanMs.value !== null ? 'load generator' : 'spans + listen queue'))
  /** mean time in system, as clients see it */
  const meanSec = computed(() => (clientMeanMs.value !== null ? clientMeanMs.value / 1000 : serviceSec.value + queueWaitSec.value))
  const littleL = computed(() => lambda.value * meanSec.value)

  return {
    spans, shown, paused, end, windowSec, dropped, lambda, rateNow, inFlight, inSystem, listenQueue, measuredL,
    serviceSec, queueWaitSec, wSource, meanSec, littleL, addSpans, onSnapshot, pause,
  }
})
