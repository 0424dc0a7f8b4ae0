/**
 * The messages between a gthread worker's main thread (pool.ts) and its threads
 * (thread.ts), and how bytes travel in them. Nothing here starts work: the thread's
 * module must not be imported by the main thread, since loading it starts a thread's work.
 */

export interface ThreadData {
  index: number
  settings: Record<string, unknown>
}

export interface Remote {
  address?: string
  port?: number
  family?: string
  encrypted: boolean
  /** over TLS: what an app asks the TLS socket (mutual TLS: who the client is) */
  tls?: { authorized: boolean; authorizationError?: string; alpnProtocol: string | false; peerCertificate: PeerCertificate | null }
}

/** the parts of a client certificate that an app checks, as tls.TLSSocket's getPeerCertificate() has them */
export interface PeerCertificate {
  subject: Record<string, unknown>
  issuer: Record<string, unknown>
  valid_from: string
  valid_to: string
  serialNumber: string
  fingerprint256: string
}

/** main -> thread */
export type ToThread =
  | { t: 'req'; id: number; method: string; url: string; httpVersion: string; headers: string[]; remote: Remote; body: boolean }
  | { t: 'body'; id: number; chunk: Wire }
  | { t: 'body-end'; id: number }
  /** the client is gone: abandon the request */
  | { t: 'abort'; id: number }
  /** the main thread wrote out `bytes` more of this response: more may be sent */
  | { t: 'ack'; id: number; bytes: number }
  /** the worker is about to exit, its last request done: run the app's close() */
  | { t: 'close' }

/** thread -> main: a response in one or more parts; `head` comes with the first */
export interface ResponsePart {
  t: 'res'
  id: number
  /** `close`: the app itself sent Connection: close (Node's own one cannot be told apart in the bytes) */
  head?: { status: number; reason: string; headers: string[]; close?: boolean }
  /** the body bytes written since the last part, if any */
  body?: Wire
  end: boolean
  /** trailers after a chunked body, flat [name, value, ...], with the end */
  trailers?: string[]
}

export type ThreadMessage =
  | { t: 'ready'; hasUpgrade: boolean }
  | { t: 'boot-error'; error: string }
  | ResponsePart
  /** a 1xx answer before the response (103 Early Hints, 102 Processing, 100 Continue) */
  | { t: 'info'; id: number; status: number; headers: string[] }
  /** the response broke off after its head was sent (the app destroyed it or threw late) */
  | { t: 'reset'; id: number }
  /** the app took `bytes` more of the request body: more may be sent */
  | { t: 'body-ack'; id: number; bytes: number }
  | { t: 'log'; level: 'error' | 'warning'; message: string }
  /** the app's close() finished (error: what it raised) */
  | { t: 'closed'; error?: string }

/** Response bytes a thread may send ahead of the main thread's writes to the client. */
export const RESPONSE_WINDOW = 1024 * 1024
/** Request body bytes the main thread may send ahead of what the app has read. */
export const BODY_WINDOW = 1024 * 1024

/**
 * Bytes as they cross between threads. A Uint8Array in a message is cloned with its whole
 * backing store: a pooled Buffer brings its 8 KiB slab along, and an app that writes a big
 * buffer in slices would have all of it copied for every slice. So a small payload travels
 * as a latin1 string (the cheapest thing to clone: 8 vs 10-20 µs of CPU per round trip
 * measured for a hello-world answer), a larger one as one ArrayBuffer of exactly its size,
 * moved to the other thread rather than copied (22 vs 50-70 µs for 64 KiB).
 */
export type Wire = string | Uint8Array

/** Payloads up to this size travel as strings. */
export const WIRE_STRING_MAX = 8 * 1024

/** `chunks` as one Wire, or undefined when they hold no bytes; a buffer to move is added to `transfer`. */
export function toWire(chunks: readonly Uint8Array[], transfer: ArrayBuffer[]): Wire | undefined {
  let total = 0
  for (const c of chunks) total += c.byteLength
  if (total === 0) return undefined
  if (total <= WIRE_STRING_MAX) {
    let s = ''
    for (const c of chunks) s += asBuffer(c).toString('latin1')
    return s
  }
  // never pooled: its ArrayBuffer is exactly these bytes and can be moved
  const out = Buffer.allocUnsafeSlow(total)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.byteLength
  }
  transfer.push(out.buffer as ArrayBuffer)
  return out
}

export function wireBytes(w: Wire): number {
  return typeof w === 'string' ? w.length : w.byteLength
}

export function fromWire(w: Wire): Buffer {
  return typeof w === 'string' ? Buffer.from(w, 'latin1') : asBuffer(w)
}

function asBuffer(c: Uint8Array): Buffer {
  return Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength)
}
