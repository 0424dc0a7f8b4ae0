/**
 * The HTTP server every worker class uses on its event loop: Node's http.Server with
 * Gunicorn's limits and timeouts, error answers that close the connection, the
 * request accounting the arbiter sees, and the per-request hooks.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { checkRequest, limitsFrom, maxHeaderBytes } from './limits.js'
import { clientErrorStatus, rejectResponse, rejectSocket } from './errors.js'
import { applyProxyHeaders } from './proxy.js'
import { takeAcceptedAt, type WorkerCounters, type ActiveRequest } from '../worker/stats.js'
import type { NodeListener } from '../app/load.js'

export interface HttpServerOptions {
  settings: Record<string, unknown>
  listener: NodeListener
  counters: WorkerCounters
  /** sync: close after every response */
  keepAlive: boolean
  thread?: number
  onRequestStart?: (ref: ActiveRequest, req: IncomingMessage) => void
  onRequestEnd?: (ref: ActiveRequest, req: IncomingMessage, res: ServerResponse, bytes: number) => void
  onAppError?: (err: unknown, req: IncomingMessage) => void
  /** count response body bytes (for the access log) */
  countBytes?: boolean
  /** true while the worker drains: every response closes its connection */
  isDraining: () => boolean
  /** true when this response should close its connection to rebalance (asked by the arbiter) */
  shed?: () => boolean
  hooks?: { pre_request?: (...a: unknown[]) => unknown; post_request?: (...a: unknown[]) => unknown }
  onHookError?: (name: string, err: unknown) => void
}

export function createHttpServer(o: HttpServerOptions): http.Server {
  const s = o.settings
  const limits = limitsFrom(s)
  const keepAliveMs = Number(s.keepalive ?? 2) * 1000
  const server = http.createServer({
    maxHeaderSize: maxHeaderBytes(limits),
    headersTimeout: Number(s.header_timeout ?? 10) * 1000 || undefined,
    requestTimeout: Number(s.request_timeout ?? 60) * 1000,
    keepAliveTimeout: o.keepAlive ? keepAliveMs : 0,
    // Node checks timeouts on this period; a smaller one makes 408s prompt.
    connectionsCheckingInterval: 1000,
    insecureHTTPParser: false,
    requireHostHeader: false,
  })
  const serverHeader = s.server_header !== false

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const rejection = checkRequest(req, limits)
    if (rejection) return rejectResponse(res, rejection.status, rejection.reason)
    applyProxyHeaders(req, s)
    if (serverHeader) res.setHeader('Server', 'paddock')
    if (!o.keepAlive || o.isDraining() || o.shed?.()) res.shouldKeepAlive = false
    const ref: ActiveRequest = { method: req.method ?? 'GET', url: req.url ?? '/', startedAt: Date.now(), thread: o.thread, acceptedAt: takeAcceptedAt(req.socket) }
    o.counters.start(ref)
    o.onRequestStart?.(ref, req)
    let bytes = 0
    // Count body bytes for the access log without buffering anything (only when it is on).
    if (o.countBytes) countBodyBytes(res, (n) => (bytes += n))
    let done = false
    const finish = () => {
      if (done) return
      done = true
      o.counters.finish(ref, res.statusCode)
      o.onRequestEnd?.(ref, req, res, bytes)
      runHook(o, 'post_request', req, res)
    }
    // a response always ends with 'close': after 'finish', or when the connection is lost first
    res.once('close', finish)
    if (limits.body > 0) enforceBodyLimit(req, res, limits.body)
    runHook(o, 'pre_request', req)
    try {
      const result = o.listener(req, res)
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        ;(result as Promise<unknown>).then(undefined, (err) => appFailed(o, err, req, res))
      }
    } catch (err) {
      appFailed(o, err, req, res)
    }
  })

  // Connections reach this server from the per-fd listeners, so it never listens itself;
  // Node starts its header / request timeout checks on 'listening', so start them here.
  queueMicrotask(() => server.emit('listening'))

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy()
    const { status, reason } = clientErrorStatus(err)
    rejectSocket(socket, status, reason)
  })
  return server
}

function countBodyBytes(res: ServerResponse, add: (n: number) => void): void {
  const size = (chunk: unknown) => (typeof chunk === 'string' ? Buffer.byteLength(chunk) : ((chunk as Uint8Array)?.length ?? 0))
  const write = res.write
  const end = res.end
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    if (chunk) add(size(chunk))
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest)
  } as ServerResponse['write']
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    if (chunk && typeof chunk !== 'function') add(size(chunk))
    return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest)
  } as ServerResponse['end']
}

function enforceBodyLimit(req: IncomingMessage, res: ServerResponse, max: number): void {
  let seen = 0
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length
    if (seen > max && !res.headersSent) {
      rejectResponse(res, 413, `body larger than ${max} bytes`)
      req.socket.destroySoon?.()
    }
  })
}

function appFailed(o: HttpServerOptions, err: unknown, req: IncomingMessage, res: ServerResponse): void {
  o.onAppError?.(err, req)
  if (!res.headersSent) rejectResponse(res, 500, 'the application raised an error')
  else res.destroy()
}

function runHook(o: HttpServerOptions, name: 'pre_request' | 'post_request', ...args: unknown[]): void {
  const hook = o.hooks?.[name]
  if (!hook) return
  try {
    hook(...args)
  } catch (err) {
    o.onHookError?.(name, err)
  }
}
