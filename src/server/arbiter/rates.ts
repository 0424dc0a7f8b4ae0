/**
 * Request rate and latency percentiles over the last second, from heartbeats: the rate from
 * how many requests each beat says completed, the percentiles from the durations it samples
 * (a bounded sample: counting the samples would cap the rate at 2048 req/s per worker).
 */
const WINDOW_MS = 1000

export class RateWindow {
  private samples: { at: number; completed: number; d: number[] }[] = []

  add(completed: number, durations: number[]): void {
    const now = Date.now()
    this.samples.push({ at: now, completed, d: durations })
    while (this.samples.length && now - this.samples[0]!.at > WINDOW_MS) this.samples.shift()
  }

  summary(): { requestsPerSec: number; p50Ms: number | null; p99Ms: number | null } {
    const now = Date.now()
    const recent = this.samples.filter((s) => now - s.at <= WINDOW_MS)
    const requests = recent.reduce((a, s) => a + s.completed, 0)
    // each beat's sample stands for all it completed: weight its durations accordingly
    const all = recent.flatMap((s) => s.d.map((d) => ({ d, w: s.completed / Math.max(1, s.d.length) }))).sort((a, b) => a.d - b.d)
    if (!all.length) return { requestsPerSec: requests, p50Ms: null, p99Ms: null }
    const total = all.reduce((a, x) => a + x.w, 0)
    const q = (p: number) => {
      let seen = 0
      for (const x of all) {
        seen += x.w
        if (seen >= p * total) return x.d
      }
      return all[all.length - 1]!.d
    }
    return { requestsPerSec: requests, p50Ms: q(0.5), p99Ms: q(0.99) }
  }
}
