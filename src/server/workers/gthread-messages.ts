/**
 * The messages between a gthread worker's main thread (gthread.ts) and its threads
 * (gthread-thread.ts). Types and constants only: the thread's module must not be imported
 * by the main thread, since loading it starts a thread's work.
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
}

/** main -> thread */
export type ToThread =
  | { t: 'req'; id: number; method: string; url: string; httpVersion: string; headers: string[]; remote: Remote; body: boolean }
  | { t: 'body'; id: number; chunk: Uint8Array }
  | { t: 'body-end'; id: number }
  /** the client is gone: abandon the request */
  | { t: 'abort'; id: number }
  /** the main thread wrote out `bytes` more of this response: more may be sent */
  | { t: 'ack'; id: number; bytes: number }

/** thread -> main: a response in one or more parts; `head` comes with the first */
export interface ResponsePart {
  t: 'res'
  id: number
  /** `close`: the app itself sent Connection: close (Node's own one cannot be told apart in the bytes) */
  head?: { status: number; reason: string; headers: string[]; close?: boolean }
  chunks: Uint8Array[]
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

/** Response bytes a thread may send ahead of the main thread's writes to the client. */
export const RESPONSE_WINDOW = 1024 * 1024
/** Request body bytes the main thread may send ahead of what the app has read. */
export const BODY_WINDOW = 1024 * 1024
