/** Request rate and latency percentiles over the last second, from heartbeat durations. */
const WINDOW_MS = 1000

export class RateWindow {
  private samples: { at: number; d: number[] }[] = []

  add(durations: number[]): void {
    const now = Date.now()
    this.samples.push({ at: now, d: durations })
    while (this.samples.length && now - this.samples[0].at > WINDOW_MS) this.samples.shift()
  }

  summary(): { requestsPerSec: number; p50Ms: number | null; p99Ms: number | null } {
    const now = Date.now()
    const all = this.samples.filter((s) => now - s.at <= WINDOW_MS).flatMap((s) => s.d).sort((a, b) => a - b)
    if (!all.length) return { requestsPerSec: 0, p50Ms: null, p99Ms: null }
    const q = (p: number) => all[Math.min(all.length - 1, Math.floor(p * all.length))]
    return { requestsPerSec: all.length, p50Ms: q(0.5), p99Ms: q(0.99) }
  }
}
