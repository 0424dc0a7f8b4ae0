/**
 * How many wrong tokens one address may try on the TCP control endpoint: at most
 * `maxRefused` refused attempts per `windowMs` (fixed window, counted per remote address).
 * Past that the address is blocked until its window ends: its connections are closed before
 * any token is read, so guessing is capped at a few tries a minute, and the log gets one
 * line per blocked window instead of one per attempt. A policy on its own (undici's habit),
 * apart from the endpoint that calls it, so it is tested without sockets.
 */
export interface RefusalPolicy {
  maxRefused: number
  windowMs: number
  /** addresses remembered at most (oldest windows forgotten first), so a scan cannot grow the table without end */
  maxAddresses?: number
}

interface Window {
  start: number
  refused: number
  /** connections dropped while blocked, since the block began */
  dropped: number
}

export type RefusalVerdict =
  /** log this refusal as it is */
  | { log: true; blockedNow: boolean }
  | { log: false; blockedNow: false }

export class RefusalLimiter {
  private readonly windows = new Map<string, Window>()
  constructor(private readonly policy: RefusalPolicy) {}

  /** May a new connection from `address` try a token? When false, close it unread. */
  admits(address: string, now = Date.now()): boolean {
    const w = this.current(address, now)
    if (!w || w.refused < this.policy.maxRefused) return true
    w.dropped++
    return false
  }

  /** One refused attempt (wrong or missing token, no hello in time). */
  refuse(address: string, now = Date.now()): RefusalVerdict {
    let w = this.current(address, now)
    if (!w) {
      w = { start: now, refused: 0, dropped: 0 }
      this.windows.set(address, w)
      this.prune()
    }
    w.refused++
    if (w.refused < this.policy.maxRefused) return { log: true, blockedNow: false }
    if (w.refused === this.policy.maxRefused) return { log: true, blockedNow: true }
    return { log: false, blockedNow: false }
  }

  /** Seconds left in the address's current window (for the log line). */
  blockedForSec(address: string, now = Date.now()): number {
    const w = this.current(address, now)
    return w ? Math.ceil((w.start + this.policy.windowMs - now) / 1000) : 0
  }

  private current(address: string, now: number): Window | undefined {
    const w = this.windows.get(address)
    if (w && now - w.start >= this.policy.windowMs) {
      this.windows.delete(address)
      return undefined
    }
    return w
  }

  private prune(): void {
    const max = this.policy.maxAddresses ?? 10_000
    for (const key of this.windows.keys()) {
      if (this.windows.size <= max) break
      this.windows.delete(key)
    }
  }
}
