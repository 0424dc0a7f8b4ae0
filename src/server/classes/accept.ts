/**
 * Accept control on a listening socket shared with other processes (see
 * docs/architecture.md): `readStop()` on the listening handle leaves new connections
 * in the kernel backlog, where an idle worker takes them. It works only if
 * `readStart()` was called once after listen(), and it is internal API, so it is
 * self-tested here and the caller degrades safely when it is missing.
 *
 * trackConnections decides when to accept for every class: under its connection limit
 * (WorkerClass.acceptLimit) and, for gthread, while its pool is not saturated.
 */
import type { Server, Socket } from 'node:net'
import type http from 'node:http'
import { markAccepted, type WorkerCounters } from '../accounting/counters.js'
import { kAcceptedAt, kAdmitted, type PaddockSocket } from '../symbols.js'

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

const BUSY_GATE_MS = 100

/** A TLS socket's first request waited from when its raw socket was accepted. */
function carryAcceptedAt(socket: Socket): void {
  const s = socket as PaddockSocket & { _parent?: PaddockSocket }
  if (s[kAcceptedAt] !== undefined) return
  if (s._parent?.[kAcceptedAt] !== undefined) s[kAcceptedAt] = s._parent[kAcceptedAt]
  else markAccepted(socket)
}

export interface ConnectionTracking {
  gate: AcceptGate
  sockets: Set<Socket>
  /** re-evaluate whether to accept (after `busy` may have changed) */
  update(): void
  /** stop accepting for `ms` whatever else happens (rebalancing: let other workers take new connections) */
  hold(ms: number): void
  /** connections open, those still in the intake (PROXY header, TLS handshake) included */
  open(): number
}

/** gthread's pool as the accept gate sees it */
export interface PoolPressure {
  /** every thread busy and as many requests already waiting */
  saturated(): boolean
  /** a thread is free: real spare capacity */
  spare(): boolean
}

/**
 * Accept while under `limit` connections and (gthread) while the pool is not saturated;
 * otherwise leave new connections in the kernel backlog for other workers.
 */
export function trackConnections(server: http.Server, listeners: Server[], counters: WorkerCounters, limit: number, warn: (m: string) => void, pool?: PoolPressure): ConnectionTracking {
  const gate = new AcceptGate(listeners)
  if (!gate.supported) warn('accept control is not available on this Node version: this worker may accept connections while busy (they wait for it in-process)')
  const sockets = new Set<Socket>()
  let heldUntil = 0
  let busySince = 0
  let busyTimer: NodeJS.Timeout | null = null
  /**
   * While busy, leave new connections to the other workers, but only for BUSY_GATE_MS: a
   * connection still waiting in the backlog after that means every worker is busy, and then
   * it is fairer to take it and queue its request in order (as Gunicorn's gthread does)
   * than to let kept-alive clients, whose requests queue at once, starve it (measured:
   * p99 1.2 s with 50 connections on 2 x 4 threads, against 23 ms). The clock restarts only
   * when a thread is free: the queue dipping for a moment under load does not restart it.
   */
  const busyGate = (): boolean => {
    if (!pool) return false
    if (pool.spare()) busySince = 0
    if (!pool.saturated()) return false
    const now = Date.now()
    if (!busySince) busySince = now
    if (now - busySince >= BUSY_GATE_MS) return false
    if (!busyTimer) {
      busyTimer = setTimeout(() => {
        busyTimer = null
        update()
      }, BUSY_GATE_MS - (now - busySince) + 1)
      busyTimer.unref()
    }
    return true
  }
  const hold = (ms: number) => {
    heldUntil = Date.now() + ms
    gate.pause()
    setTimeout(update, ms + 5).unref()
  }
  /**
   * With PROXY or TLS on, a connection spends a while in the intake before the server sees
   * it (http/intake.ts): it counts from its acceptance, as raw sockets, so a sync worker in
   * a handshake does not accept another. Without them, `admitted` stays null.
   */
  let admitted: Set<Socket> | null = null
  const open = () => (admitted ? admitted.size : sockets.size)
  const update = () => {
    counters.connections = open()
    if (open() >= limit || Date.now() < heldUntil || busyGate()) gate.pause()
    else gate.resume()
  }
  ;(server as unknown as NodeJS.EventEmitter).on(kAdmitted, (raw: Socket) => {
    markAccepted(raw)
    ;(admitted ??= new Set()).add(raw)
    update()
    raw.once('close', () => {
      admitted!.delete(raw)
      update()
    })
  })
  server.on('connection', (socket: Socket) => {
    if (!admitted) markAccepted(socket)
    else carryAcceptedAt(socket)
    sockets.add(socket)
    update()
    socket.once('close', () => {
      sockets.delete(socket)
      update()
    })
  })
  return { gate, sockets, update, hold, open }
}
