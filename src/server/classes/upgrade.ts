/**
 * Protocol upgrades (WebSockets) on paddock's own HTTP server: they go to the app module's
 * `upgrade(req, socket, head)` export and count as upgraded connections until they close.
 */
import type http from 'node:http'
import type { Socket } from 'node:net'
import type { WorkerCounters } from '../accounting/counters.js'
import { describeError } from '../errors.js'
import { kUpgraded, type PaddockSocket } from '../symbols.js'
import type { ClassContext, WorkerClass } from './worker-class.js'

type UpgradeExport = (req: http.IncomingMessage, socket: Socket, head: Buffer) => void

export function serveUpgrades(server: http.Server, upgrade: UpgradeExport | undefined, cls: WorkerClass, ctx: ClassContext): void {
  const refuseOptIn = cls.upgrades === 'opt-in' && ctx.settings.allow_sync_upgrades !== true
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    if (!upgrade) return refuse(socket, 'this app does not handle protocol upgrades (export an upgrade(req, socket, head) function)')
    if (refuseOptIn) return refuse(socket, `${cls.name} workers refuse protocol upgrades: one long-lived connection would occupy a whole worker; use -k async or gthread, or --allow-sync-upgrades`)
    countUpgraded(req, socket, ctx.counters)
    try {
      upgrade(req, socket, head)
    } catch (err) {
      ctx.log('error', `upgrade handler raised: ${describeError(err)}`)
      socket.destroy()
    }
  })
}

/** An upgraded connection counts until it closes; what it was upgraded to decides how a drain ends it. */
export function countUpgraded(req: http.IncomingMessage, socket: Socket, counters: WorkerCounters): void {
  counters.upgraded++
  ;(socket as PaddockSocket)[kUpgraded] = String(req.headers.upgrade ?? 'unknown').toLowerCase()
  socket.once('close', () => counters.upgraded--)
}

function refuse(socket: Socket, why: string): void {
  const body = `${why}\n`
  socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
}
