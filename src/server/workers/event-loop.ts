/**
 * The sync and async worker classes: one Node event loop per process serving HTTP.
 *   sync   exactly one connection at a time; while busy the process does not accept,
 *          so waiting connections go to idle workers; Connection: close every time.
 *   async  up to worker_connections connections on the loop; above that the process
 *          stops accepting and the backlog feeds other workers; keep-alive on.
 */
import type { Server, Socket } from 'node:net'
import type http from 'node:http'
import { AcceptGate } from './accept.js'
import type { WorkerCounters } from '../worker/stats.js'

export interface ConnectionTracking {
  gate: AcceptGate
  sockets: Set<Socket>
  /** re-evaluate whether to accept (after `busy` may have changed) */
  update(): void
  /** stop accepting for `ms` whatever else happens (rebalancing: let other workers take new connections) */
  hold(ms: number): void
}

/**
 * Accept while under `limit` connections and not `busy` (gthread: every thread taken and
 * requests already waiting); otherwise leave new connections in the kernel backlog.
 */
export function trackConnections(server: http.Server, listeners: Server[], counters: WorkerCounters, limit: number, warn: (m: string) => void, busy?: () => boolean): ConnectionTracking {
  const gate = new AcceptGate(listeners)
  if (!gate.supported) warn('accept control is not available on this Node version: this worker may accept connections while busy (they wait for it in-process)')
  const sockets = new Set<Socket>()
  let heldUntil = 0
  const update = () => {
    if (sockets.size >= limit || busy?.() || Date.now() < heldUntil) gate.pause()
    else gate.resume()
  }
  const hold = (ms: number) => {
    heldUntil = Date.now() + ms
    gate.pause()
    setTimeout(update, ms + 5).unref()
  }
  server.on('connection', (socket: Socket) => {
    ;(socket as Socket & { paddockAcceptedAt?: number }).paddockAcceptedAt = Date.now()
    sockets.add(socket)
    counters.connections = sockets.size
    update()
    socket.once('close', () => {
      sockets.delete(socket)
      counters.connections = sockets.size
      update()
    })
  })
  return { gate, sockets, update, hold }
}
