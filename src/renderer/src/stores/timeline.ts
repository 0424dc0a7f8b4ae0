/**
 * Request spans for the timeline: the engine samples them (at most SPAN_CAP_PER_SEC) and we
 * keep the last 60 s. Also the Little's-law figures: arrival rate λ (completed requests per
 * second, from the engine), mean time in system W (from the spans), L = λ·W, next to the
 * in-flight count the workers report.
 */
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { ArbiterSnapshot, RequestSpan } from '../../../shared/protocol'

export const SPAN_KEEP_MS = 60_000

export const useTimelineStore = defineStore('timeline', () => {
  const spans = shallowRef<RequestSpan[]>([])
  const frozen = shallowRef<RequestSpan[] | null>(null)
  const frozenAt = ref<number | null>(null)
  const windowSec = ref(10)
  const dropped = ref(0)
  const now = ref(Date.now())
  const lambda = ref(0)
  const inFlight = ref(0)
  /** running plus waiting inside the workers (gthread's queue): what W counts, so what L predicts */
  const inSystem = ref(0)

  function addSpans(batch: RequestSpan[], droppedNow: number): void {
    dropped.value += droppedNow
    const cut = Date.now() - SPAN_KEEP_MS
    spans.value = spans.value.filter((s) => s.start + s.durationMs >= cut).concat(batch)
  }

  function onSnapshot(s: ArbiterSnapshot): void {
    now.value = s.at
    lambda.value = s.rates.requestsPerSec
    const live = s.workers.filter((w) => w.state !== 'exited')
    inFlight.value = live.reduce((a, w) => a + w.inFlight, 0)
    inSystem.value = live.reduce((a, w) => a + w.inFlight + (w.queued ?? 0), 0)
  }

  function pause(p: boolean): void {
    frozen.value = p ? spans.value : null
    frozenAt.value = p ? now.value : null
  }

  const paused = computed(() => frozen.value !== null)
  const shown = computed(() => frozen.value ?? spans.value)
  const end = computed(() => frozenAt.value ?? now.value)

  /** mean time in system over the last 5 s of spans (queue wait included where known) */
  const meanSec = computed(() => {
    const from = now.value - 5000
    const recent = spans.value.filter((s) => s.start + s.durationMs >= from)
    if (!recent.length) return 0
    const total = recent.reduce((a, s) => a + s.durationMs + (s.acceptedAt !== undefined ? Math.max(0, s.start - s.acceptedAt) : 0), 0)
    return total / recent.length / 1000
  })
  const littleL = computed(() => lambda.value * meanSec.value)

  return { spans, shown, paused, end, windowSec, dropped, lambda, inFlight, inSystem, meanSec, littleL, addSpans, onSnapshot, pause }
})
