/**
 * How a worker lets go of its connections while it drains: kept-alive connections close
 * once idle for a moment (a client that is just sending is not cut), and at the graceful
 * timeout upgraded ones get a last word.
 */
import type { Socket } from 'node:net'
import { kIdleSince, kUpgraded, type PaddockSocket } from '../symbols.js'

/** how long a connection must have been idle before a drain closes it */
const IDLE_BEFORE_CLOSE_MS = 250

/** Close the connections that have carried no request for IDLE_BEFORE_CLOSE_MS. */
export function closeIdleConnections(sockets: Set<Socket>): void {
  for (const socket of sockets) {
    const s = socket as PaddockSocket
    // an upgraded connection (WebSocket) is the app's to close; the graceful timeout bounds it
    if (s._httpMessage || s[kUpgraded]) {
      s[kIdleSince] = undefined
      continue
    }
    s[kIdleSince] ??= Date.now()
    if (Date.now() - s[kIdleSince] >= IDLE_BEFORE_CLOSE_MS) s.destroySoon()
  }
}

/** WebSocket close frame, server to client (unmasked): status 1001 "going away". */
const GOING_AWAY = Buffer.from([0x88, 0x02, 0x03, 0xe9])

/**
 * At the graceful timeout, WebSockets still open get a close frame (1001 going away), so
 * clients reconnect cleanly to another worker instead of seeing a reset. Returns how many
 * upgraded connections it ended.
 */
export function endUpgraded(sockets: Iterable<Socket>): number {
  let n = 0
  for (const socket of sockets) {
    const s = socket as PaddockSocket
    if (!s[kUpgraded] || s.destroyed) continue
    n++
    // a close frame only means something to a WebSocket peer; other upgrades are just ended
    if (s[kUpgraded] === 'websocket') s.end(GOING_AWAY)
    else s.end()
  }
  return n
}
