/**
 * The `native` worker class (Gunicorn's tornado worker, Node-style): the app brings its own
 * http.Server (a bare one, Fastify's, NestJS's, the one Socket.IO is attached to) and keeps
 * parsing, routing and upgrading. paddock feeds it the connections its listeners accept,
 * so supervision stays paddock's: accept control, heartbeat, drain, max-requests, and the
 * per-worker numbers, read from the server's own events.
 */
import http from 'node:http'
import type { Socket } from 'node:net'
import { callClose, closeExport, importAppModule, splitAppSpec } from '../app/load.js'
import { PaddockError } from '../errors.js'
import { takeAcceptedAt, type ActiveRequest, type WorkerCounters } from '../accounting/counters.js'
import { queueBehind } from '../http/server.js'
import { checkConformance } from '../http/limits.js'
import { answerSocket, onClientError, rejectResponse } from '../http/errors.js'
import { kLastRequest, kRes, type PaddockSocket } from '../symbols.js'
import { closeIdleConnections } from './drain.js'
import { ownFigures, workerConnections } from './event-loop.js'
import { countUpgraded } from './upgrade.js'
import type { EdgeReactions, WorkerClass } from './worker-class.js'

export const nativeClass: WorkerClass = {
  name: 'native',
  // The app's own server writes the responses, so paddock cannot make one of them close
  // its connection: asking it to give connections back would do nothing.
  traits: { shedsConnections: false },
  // the app's server decides; Node's keeps connections alive
  keepAlive: true,
  upgrades: 'own-server',
  acceptLimit: workerConnections,
  // nothing to load before post_worker_init: the app module is imported with its server, after it
  boot: async (ctx) => {
    let close: (() => unknown) | undefined
    return {
      async createServer() {
        // the app's own server parses, routes and upgrades; paddock feeds and watches it
        const native = await nativeApp(String(ctx.settings.app), ctx.settings.factory === true)
        close = native.close
        instrument(native.server, ctx.counters, ctx.edge)
        return native.server
      },
      figures: ownFigures,
      closeIdle: closeIdleConnections,
      closeApp: () => callClose(close),
    }
  },
}

function isServer(v: unknown): v is http.Server {
  return !!v && typeof v === 'object' && typeof (v as http.Server).listen === 'function' && typeof (v as http.Server).on === 'function' && typeof (v as http.Server).emit === 'function' && 'maxHeadersCount' in (v as object)
}

/** The http.Server behind what the module exported (or a --factory returned). */
export async function nativeServer(spec: string, factory: boolean): Promise<http.Server> {
  return (await nativeApp(spec, factory)).server
}

/**
 * The server, and how the app shuts down after its last request: the module's `close()`
 * export, else a Fastify instance's or NestJS app's own `close()` (which run their onClose
 * hooks and providers' shutdown; the connections are already closed by then).
 */
export async function nativeApp(spec: string, factory: boolean): Promise<{ server: http.Server; close?: () => unknown }> {
  const imported = await importAppModule(spec)
  const found = await findServer(imported, spec, factory)
  const own = found.owner
  const instanceClose = own && typeof own.close === 'function' ? () => (own.close as () => unknown).call(own) : undefined
  return { server: found.server, close: closeExport(imported.mod) ?? instanceClose }
}

async function findServer(
  { mod, exportName, module }: Awaited<ReturnType<typeof importAppModule>>,
  spec: string,
  factory: boolean,
): Promise<{ server: http.Server; owner?: Record<string, unknown> }> {
  let value: unknown = mod[exportName]
  if (value === undefined) throw new PaddockError('PADDOCK_ERR_APP_EXPORT', `app module ${module} has no export "${splitAppSpec(spec).exportName}"`)
  if (factory) {
    if (typeof value !== 'function') throw new PaddockError('PADDOCK_ERR_APP_EXPORT', `--factory: export "${exportName}" of ${module} is not a function`)
    value = await (value as () => unknown)()
  }
  if (isServer(value)) return { server: value }
  const o = value as Record<string, unknown> | null
  // Fastify: routes are registered once ready() resolves; its server is `.server`
  if (o && typeof o.ready === 'function' && isServer(o.server)) {
    await (o.ready as () => Promise<unknown>)()
    return { server: o.server, owner: o }
  }
  // NestJS: app.init() then app.getHttpServer()
  if (o && typeof o.getHttpServer === 'function') {
    if (typeof o.init === 'function') await (o.init as () => Promise<unknown>)()
    const s = (o.getHttpServer as () => unknown)()
    if (isServer(s)) return { server: s, owner: o }
  }
  // Socket.IO attached to a server, or any object holding one (its close() would close the server: not called)
  for (const key of ['httpServer', 'server']) if (o && isServer(o[key])) return { server: o[key] as http.Server }
  throw new PaddockError(
    'PADDOCK_ERR_APP_EXPORT',
    `-k native: ${module}:${exportName} does not give an http.Server; export the server itself (http.createServer(...)), a Fastify instance, a NestJS app, or a Socket.IO server attached to an http.Server`,
  )
}

/**
 * Count what the app's server does: requests (from 'request' and the response's end),
 * upgraded connections; and start Node's header / request timeouts, which it arms only
 * on 'listening' (this server never listens: paddock's listeners feed it).
 */
export function instrument(
  server: http.Server,
  counters: WorkerCounters,
  hooks: Pick<EdgeReactions, 'onRequestStart' | 'onRequestEnd'>,
): void {
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const ref: ActiveRequest = { method: req.method ?? 'GET', url: req.url ?? '/', startedAt: Date.now(), acceptedAt: takeAcceptedAt(req.socket), slot: -1 }
    counters.start(ref)
    hooks.onRequestStart?.(ref, req)
    let done = false
    const finish = () => {
      if (done) return
      done = true
      counters.finish(ref, res.statusCode)
      hooks.onRequestEnd?.(ref, req, res, Number(res.getHeader('content-length') ?? 0))
    }
    res.once('finish', finish)
    res.once('close', finish)
    if (!res.socket) queueBehind(req.socket, res)
  })
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket) => countUpgraded(req, socket, counters))
  guardRequests(server)
  queueMicrotask(() => {
    try {
      server.emit('listening')
    } catch {
      // a framework's own 'listening' handler may expect an address; ours only needs the timers
    }
  })
}

/**
 * What paddock enforces on the app's own server before its listeners run: the RFC rules of
 * checkConformance (Node lets two Host headers through), an answer to CONNECT when the app
 * does not take tunnels (Node closes without a word), and paddock's answers to framing errors. A 'request' listener cannot stop the app's
 * own listeners, so the check sits in the server's emit.
 */
function guardRequests(server: http.Server): void {
  const emit = server.emit
  server.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'request') {
      const req = args[0] as http.IncomingMessage & { [kRes]?: http.ServerResponse }
      ;(req.socket as PaddockSocket)[kLastRequest] = req
      req[kRes] = args[1] as http.ServerResponse
      const rejection = checkConformance(req)
      if (rejection) {
        rejectResponse(args[1] as http.ServerResponse, rejection.status, rejection.reason)
        return true
      }
    }
    return emit.apply(this, [event, ...args] as Parameters<typeof emit>)
  } as typeof server.emit
  // Node emits 'connect' only when someone listens; the app's own listener, if any, answers
  const noTunnels = (_req: http.IncomingMessage, socket: Socket) => {
    if (server.listenerCount('connect') === 1) answerSocket(socket, 501, 'CONNECT is not served here')
  }
  server.on('connect', noTunnels)
  // a framing error after an answer went out closes quietly, as on paddock's own server,
  // unless the app handles client errors itself
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (server.listenerCount('clientError') === 1) onClientError(err, socket)
  })
}
