/**
 * State paddock keeps on Node's own objects (sockets, requests, responses), under symbols
 * from this one file, as Node does for its own fields and fastify in lib/symbols.js: they
 * cannot clash with a property an app or a framework sets, and `grep kUpgraded` finds
 * every reader and writer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

// ---------------------------------------------------------------- on a socket
/** when the worker accepted it; taken by its first request only (accounting/counters.ts) */
export const kAcceptedAt = Symbol('paddock.acceptedAt')
/** the protocol it was upgraded to (`websocket`, ...): the app's from then on, closed last in a drain */
export const kUpgraded = Symbol('paddock.upgraded')
/** since when it has been idle while the worker drains (classes/drain.ts) */
export const kIdleSince = Symbol('paddock.idleSince')
/** responses pipelined behind the one being written, which Node does not close for us (http/server.ts) */
export const kQueued = Symbol('paddock.queued')
/**
 * the last request parsed on it: whether its body is complete tells a framing error in that
 * body from one in the bytes after it (http/errors.ts rejectSocket)
 */
export const kLastRequest = Symbol('paddock.lastRequest')

/** the client a PROXY header named (http/intake.ts); carried over to the TLS socket on top */
export const kClient = Symbol('paddock.client')

// ---------------------------------------------------------------- on the http.Server
/**
 * event: a connection was accepted and is in the intake (PROXY header, TLS handshake); it
 * counts for the accept limit from then until it closes (http/intake.ts, classes/accept.ts)
 */
export const kAdmitted = Symbol('paddock.admitted')

// ---------------------------------------------------------------- on a response
/** the running request it answers, until it closes (http/server.ts) */
export const kRef = Symbol('paddock.ref')
/** response body bytes, for the access log */
export const kBytes = Symbol('paddock.bytes')

// ---------------------------------------------------------------- on a request
/** its response, for a 413 once the body goes over the limit */
export const kRes = Symbol('paddock.res')
/** secure_scheme_headers were removed from it (an untrusted peer): gthread must not pass them on */
export const kStripped = Symbol('paddock.stripped')
/** request body bytes the parser handed over so far */
export const kBodyBytes = Symbol('paddock.bodyBytes')

/** A connection with what paddock keeps on it. */
export interface PaddockSocket extends Socket {
  [kAcceptedAt]?: number
  [kUpgraded]?: string
  [kIdleSince]?: number
  [kQueued]?: ServerResponse[]
  [kLastRequest]?: IncomingMessage
  /** Node's own: the response being written on it, if any */
  _httpMessage?: unknown
}
