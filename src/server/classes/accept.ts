/**
 * Accept control on a listening socket shared with other processes (see
 * docs/architecture.md): `readStop()` on the listening handle leaves new connections
 * in the kernel backlog, where an idle worker takes them. It works only if
 * `readStart()` was called once after listen(), and it is internal API, so it is
 * self-tested here and the caller degrades safely when it is missing.
 */
import type { Server } from 'node:net'

interface ListenHandle {
  readStart?: () => number
  readStop?: () => number
}

export class AcceptGate {
  private paused = false
  readonly supported: boolean

  constructor(private readonly servers: Server[]) {
    this.supported = servers.every((s) => {
      const h = (s as unknown as { _handle?: ListenHandle })._handle
      return typeof h?.readStart === 'function' && typeof h?.readStop === 'function' && h.readStart() === 0
    })
  }

  pause(): void {
    if (this.paused || !this.supported) return
    this.paused = true
    for (const s of this.servers) (s as unknown as { _handle?: ListenHandle })._handle?.readStop?.()
  }

  resume(): void {
    if (!this.paused || !this.supported) return
    this.paused = false
    for (const s of this.servers) (s as unknown as { _handle?: ListenHandle })._handle?.readStart?.()
  }

  get isPaused(): boolean {
    return this.paused
  }
}
