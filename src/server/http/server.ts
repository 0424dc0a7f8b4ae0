/**
 * The HTTP server every worker class uses on its event loop: Node's http.Server with
 * Gunicorn's limits and timeouts, error answers that close the connection, the
 * request accounting the arbiter sees, and the per-request hooks.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { checkRequest, limitsFrom, maxHeaderBytes } from './limits.js'
import { answerSocket, clientErrorStatus, onClientError, rejectResponse } from './errors.js'
import { applyProxyHeaders } from './proxy.js'
import { findHeader } from './headers.js'
import { takeAcceptedAt, type WorkerCounters, type ActiveRequest } from '../accounting/counters.js'
import type { NodeListener } from '../app/load.js'
import { kBodyBytes, kBytes, kLastRequest, kQueued, kRef, kRes, type PaddockSocket } from '../symbols.js'

/**
 * Who answers a request: the app itself, or (gthread) a dispatcher that hands the request
 * on together with its running record, so the record need not be looked up again.
 */
export type Serve = { app: NodeListener } | { dispatch: (req: IncomingMessage, res: ServerResponse, ref: ActiveRequest) => void }

export interface HttpServerOptions {
  settings: Record<string, unknown>
  serve: Serve
  counters: WorkerCounters
  /** the worker class's keep-alive (sync: close after every response) */
  keepAlive: boolean
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
  /** a request the parser refused before any request object existed (the access log still names it) */
  onRejected?: (socket: Socket, status: number, rawHead: Buffer) => void
}

export function createHttpServer(o: HttpServerOptions): http.Server {
  const s = o.settings
  const limits = limitsFrom(s)
  const app = 'app' in o.serve ? o.serve.app : null
  const dispatch = 'dispatch' in o.serve ? o.serve.dispatch : null
  const keepAliveMs = Number(s.keepalive ?? 2) * 1000
  /**
   * Each response reports its own end: no listener per request (the hot path of a
   * hello-world load), just a check in emit. A response always ends with 'close': after
   * 'finish', or when the connection is lost first.
   */
  class TrackedResponse extends http.ServerResponse {
    [kRef]: ActiveRequest | null = null;
    [kBytes] = 0
    // No rest parameters: an emit runs four or five times per response, and spreading
    // arguments each time showed in hello-world throughput.
    override emit(event: string | symbol, arg?: unknown): boolean {
      if (event === 'close' && this[kRef]) {
        const ref = this[kRef]
        this[kRef] = null
        // The socket keeps its last request (kLastRequest, for errors.ts), and the request
        // its response: let the response go with its end, as Node does. Kept until the next
        // request on a kept-alive connection, every response outlived a young-generation GC
        // and was promoted: an async worker under wrk -c50 had 40 MiB of heap (25 without)
        // and 87 MiB of RSS (74), Node's own server 16 and 70.
        ;(this.req as LimitedRequest)[kRes] = null
        o.counters.finish(ref, this.statusCode)
        o.onRequestEnd?.(ref, this.req, this, this[kBytes])
        runHook(o, 'post_request', this.req, this)
      }
      // ServerResponse's own events carry at most one argument; anything else goes through as is
      if (arguments.length <= 1) return super.emit(event)
      if (arguments.length === 2) return super.emit(event, arg)
      return super.emit.apply(this, arguments as unknown as [string | symbol, ...unknown[]])
    }

    /**
     * `Server: paddock` unless the app sends its own. Added here, not with setHeader before
     * the app runs: a setHeader first sends every writeHead(status, headers) down Node's
     * slow path (each header set one by one), which cost 5-10% of hello-world throughput.
     */
    override writeHead(statusCode: number, reason?: unknown, headers?: unknown): this {
      if (serverHeader && !this.headersSent) {
        if (typeof reason !== 'string') {
          headers = reason ?? headers
          reason = undefined
        }
        headers = withServerHeader(this, headers)
      }
      return super.writeHead(statusCode, reason as string, headers as http.OutgoingHttpHeaders)
    }
  }
  /**
   * The body limit counts what the parser hands over, without a 'data' listener: one would
   * start the stream flowing before the app listens, and an app that reads its body after
   * an await would get none of it.
   */
  class LimitedRequest extends http.IncomingMessage {
    [kRes]: ServerResponse | null = null;
    [kBodyBytes] = 0
    override push(chunk: unknown, encoding?: BufferEncoding): boolean {
      if (chunk !== null && chunk !== undefined) {
        this[kBodyBytes] += (chunk as Buffer).length
        if (this[kBodyBytes] > limits.body) {
          const res = this[kRes]
          if (res && !res.headersSent) rejectResponse(res, 413, `body larger than ${limits.body} bytes`)
          this.socket.destroySoon?.()
          return false
        }
      }
      return super.push(chunk, encoding)
    }
  }
  const server = http.createServer({
    maxHeaderSize: maxHeaderBytes(limits),
    headersTimeout: Number(s.header_timeout ?? 10) * 1000 || undefined,
    requestTimeout: Number(s.request_timeout ?? 60) * 1000,
    keepAliveTimeout: o.keepAlive ? keepAliveMs : 0,
    // Node checks timeouts on this period; a smaller one makes 408s prompt.
    connectionsCheckingInterval: 1000,
    insecureHTTPParser: false,
    requireHostHeader: false,
    ServerResponse: TrackedResponse as unknown as typeof http.ServerResponse,
    ...(limits.body > 0 ? { IncomingMessage: LimitedRequest as unknown as typeof http.IncomingMessage } : {}),
  })
  const serverHeader = s.server_header !== false

  server.on('request', (req: IncomingMessage, res: TrackedResponse) => {
    ;(req.socket as PaddockSocket)[kLastRequest] = req
    const rejection = checkRequest(req, limits)
    if (rejection) return rejectResponse(res, rejection.status, rejection.reason)
    applyProxyHeaders(req, s)
    if (!o.keepAlive || o.isDraining() || o.shed?.()) res.shouldKeepAlive = false
    // `thread` is set by gthread when a thread takes the request; named here so every
    // record has the same shape
    const ref: ActiveRequest = { method: req.method ?? 'GET', url: req.url ?? '/', startedAt: Date.now(), thread: undefined, acceptedAt: takeAcceptedAt(req.socket), slot: -1 }
    o.counters.start(ref)
    o.onRequestStart?.(ref, req)
    // Count body bytes for the access log without buffering anything (only when it is on).
    if (o.countBytes) countBodyBytes(res, (n) => (res[kBytes] += n))
    res[kRef] = ref
    // Pipelined behind a response still being written: Node queues it without a socket,
    // and if the connection closes first (the earlier response said Connection: close, or
    // the client left) it never emits 'close' for it: the request would stay in flight
    // for good, and hold up every drain until the graceful timeout.
    if (!res.socket) queueBehind(req.socket, res)
    // for the body limit's 413, and for a framing error in the body (errors.ts rejectSocket)
    ;(req as LimitedRequest)[kRes] = res
    runHook(o, 'pre_request', req)
    try {
      if (dispatch) return dispatch(req, res, ref)
      const result = app!(req, res)
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

  // Node drops a CONNECT (authority form) without a word unless someone listens. paddock is
  // no forward proxy, and a request listener cannot take a tunnel: say so.
  server.on('connect', (_req: IncomingMessage, socket: Socket) => answerSocket(socket, 501, 'CONNECT is not served here'))

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // a request the parser refused while nothing else was in flight on the connection: the
    // access log still sees it (it never reached the app)
    const raw = (err as { rawPacket?: Buffer }).rawPacket
    if (raw?.length && err.code !== 'ECONNRESET' && socket.writable && !(socket as { _httpMessage?: unknown })._httpMessage) o.onRejected?.(socket, clientErrorStatus(err).status, raw)
    onClientError(err, socket)
  })
  return server
}

/**
 * A response pipelined behind one still being written has no socket yet; Node never emits
 * 'close' for it if the connection closes first. This does, when that happens.
 */
export function queueBehind(socket: Socket, res: ServerResponse): void {
  const s = socket as PaddockSocket
  if (s[kQueued]) {
    // those that got the socket since are Node's to close: the list stays as long as the
    // client's pipeline, not as long as the connection's life
    s[kQueued] = s[kQueued].filter((r) => !r.socket && !r.writableFinished)
    s[kQueued].push(res)
    return
  }
  s[kQueued] = [res]
  s.once('close', () => {
    // closed without ever being written: as Node does for the response it was writing
    for (const r of s[kQueued]!) if (!r.socket && !r.writableFinished) r.emit('close')
    s[kQueued] = undefined
  })
}

const SERVER_HEADER = 'paddock'

function withServerHeader(res: ServerResponse, headers: unknown): unknown {
  if (headers === undefined || headers === null) {
    if (!res.hasHeader('server')) res.setHeader('Server', SERVER_HEADER)
    return headers
  }
  if (res.hasHeader('server') || findHeader(headers, 'server')) return headers
  if (Array.isArray(headers)) {
    // flat [name, value, ...] or nested [[name, value], ...], as writeHead takes them
    return Array.isArray(headers[0]) ? [...headers, ['Server', SERVER_HEADER]] : [...headers, 'Server', SERVER_HEADER]
  }
  if (typeof headers === 'object') {
    // a copy, never the app's own object (it may be shared or frozen); not an object
    // spread: `{ ...headers, Server }` made Node's header processing 12-15% slower per
    // response (measured with Node's cluster module alone), Object.assign does not
    const copy = Object.assign({}, headers) as Record<string, unknown>
    copy.Server = SERVER_HEADER
    return copy
  }
  return headers
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
