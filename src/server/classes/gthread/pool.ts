/**
 * gthread, the process side. The process's main thread owns the listening sockets and every
 * connection (same HTTP server, limits, keep-alive and drain as async); each parsed request
 * goes to a free thread of the pool, FIFO when none is free. So a kept-alive connection
 * that is idle holds no thread, and a thread runs one request at a time.
 *
 *   client ─TCP─> main thread (http.Server: parse, limits, keep-alive, the real response)
 *                    │ {req: method, url, headers, client}  [+ body parts]
 *                    ▼
 *   thread n: its own copy of the app, a real IncomingMessage / ServerResponse
 *                    │ {res: head, body parts, end}  (one message for a small answer)
 *                    ▼
 *   main thread: writeHead + write/end on the client's ServerResponse
 *
 * Sockets cannot be handed to threads; requests and answers can, as structured messages:
 * each side's HTTP is parsed once, by Node's own parser on the main thread. A response
 * larger than RESPONSE_WINDOW waits for acknowledgements, so a slow client holds back the
 * thread's writes instead of filling memory.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Worker } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import type { ActiveRequest } from '../../accounting/counters.js'
import { kStripped } from '../../symbols.js'
import type { LogLevel } from '../../../shared/protocol.js'
import { BODY_WINDOW, RESPONSE_WINDOW, toWire, wireBytes, type Remote, type ResponsePart, type ThreadData, type ThreadMessage, type ToThread } from './messages.js'
import type { Socket } from 'node:net'
import { TLSSocket } from 'node:tls'

/** Hop-by-hop headers: about one connection, never forwarded (RFC 9110 7.6.1). */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect'])
/** ...and those of them the main thread decides for the response (Trailer passes: trailers are carried) */
const RESPONSE_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'])

interface Job {
  req: IncomingMessage
  res: ServerResponse
  ref: ActiveRequest
}

interface Slot {
  index: number
  worker: Worker
  busy: Job | null
  /** the id of the exchange running on this thread */
  exchange: number
  /** response bytes written to the client and not yet acknowledged to the thread */
  written: number
  /** request body bytes sent to the thread that its app has not read yet */
  bodyUnacked: number
  ready: boolean
}

export interface ThreadPool {
  readonly size: number
  dispatch(req: IncomingMessage, res: ServerResponse, ref: ActiveRequest): void
  running(): number
  queued(): number
  slots(): boolean[]
  /** true while every thread is busy and requests already wait: stop accepting */
  saturated(): boolean
  /** a thread is free */
  spare(): boolean
  /** the app exports an upgrade handler (WebSockets are then served by the main thread) */
  hasUpgrade: boolean
  /** every thread runs its copy of the app's close(); resolves to what they raised */
  closeApps(): Promise<string[]>
  close(): Promise<void>
}

export async function startThreadPool(opts: {
  threads: number
  settings: Record<string, unknown>
  log: (level: LogLevel, message: string) => void
  /** called whenever a thread becomes free or busy (to re-evaluate accepting) */
  onChange: () => void
}): Promise<ThreadPool> {
  const entry = fileURLToPath(new URL('./thread.js', import.meta.url))
  const queue: Job[] = []
  let nextId = 1
  let closing = false
  let hasUpgrade = false

  function spawn(index: number): Promise<Slot> {
    const worker = new Worker(entry, { workerData: { index, settings: opts.settings } satisfies ThreadData })
    const slot: Slot = { index, worker, busy: null, exchange: 0, written: 0, bodyUnacked: 0, ready: false }
    return new Promise<Slot>((resolve, reject) => {
      worker.on('message', (m: ThreadMessage) => {
        switch (m.t) {
          case 'res':
            return answer(slot, m)
          case 'info':
            if (slot.busy && slot.exchange === m.id) informational(slot.busy.res, m.status, m.headers)
            return
          case 'body-ack':
            if (slot.busy && slot.exchange === m.id) {
              slot.bodyUnacked -= m.bytes
              if (slot.bodyUnacked < BODY_WINDOW && slot.busy.req.isPaused()) slot.busy.req.resume()
            }
            return
          case 'reset':
            if (slot.busy && slot.exchange === m.id) {
              const job = slot.busy
              release(slot)
              // the answer broke off after it started: the client must not take it as complete
              if (job.res.headersSent) job.res.destroy()
              else internalError(job.res)
            }
            return
          case 'ready':
            slot.ready = true
            hasUpgrade = m.hasUpgrade
            return resolve(slot)
          case 'boot-error':
            return reject(new Error(m.error))
          case 'log':
            return opts.log(m.level, m.message)
          case 'closed':
            return worker.emit('app-closed', m.error)
        }
      })
      worker.on('error', (err) => {
        opts.log('error', `thread ${index} crashed: ${err.stack ?? err}`)
        if (!slot.ready) reject(err)
      })
      worker.on('exit', () => {
        if (closing || !slot.ready) return
        // a thread that died takes its request with it; the others go on, and it is replaced
        const job = slot.busy
        slot.busy = null
        slot.ready = false
        if (job) {
          if (job.res.headersSent) job.res.destroy()
          else internalError(job.res)
        }
        spawn(index).then(
          (fresh) => {
            slots[index] = fresh
            pump()
          },
          (err) => opts.log('critical', `thread ${index} could not be replaced: ${err}`),
        )
      })
    })
  }

  const slots: Slot[] = await Promise.all(Array.from({ length: opts.threads }, (_, i) => spawn(i)))

  function release(slot: Slot): void {
    slot.busy = null
    pump()
    opts.onChange()
  }

  function pump(): void {
    while (queue.length) {
      const slot = slots.find((s) => s.ready && !s.busy)
      if (!slot) return
      const job = queue.shift()!
      // the client left while its request waited: nothing to run
      // ...or the edge answered it already (a framing error in its body)
      if (job.res.destroyed || job.req.destroyed || job.res.writableEnded) continue
      run(slot, job)
    }
  }

  function run(slot: Slot, job: Job): void {
    const { req, res, ref } = job
    const id = nextId++
    slot.busy = job
    slot.exchange = id
    slot.written = 0
    ref.thread = slot.index
    // the time it waited for a thread is time in the queue, not running
    ref.acceptedAt ??= ref.startedAt
    ref.startedAt = Date.now()
    opts.onChange()
    const headers: string[] = []
    const raw = req.rawHeaders
    let body = false
    const stripped = (req as IncomingMessage & { [kStripped]?: boolean })[kStripped] === true
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase()
      if (name === 'content-length') body ||= raw[i + 1] !== '0'
      else if (name === 'transfer-encoding') body = true
      // headers the edge removed (untrusted forwarding headers) stay removed
      if (HOP.has(name) || (stripped && req.headers[name] === undefined)) continue
      headers.push(raw[i]!, raw[i + 1]!)
    }
    const s = req.socket
    const post = (m: ToThread, transfer?: ArrayBuffer[]) => slot.worker.postMessage(m, transfer)
    post({
      t: 'req',
      id,
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      httpVersion: req.httpVersion,
      headers,
      remote: remoteOf(s),
      body,
    })
    if (body) {
      // an app that reads its upload slowly holds the client back (TCP), instead of the
      // whole body piling up in the thread's memory
      slot.bodyUnacked = 0
      req.on('data', (chunk: Buffer) => {
        // answered already (an app that did not read its whole body): the rest is dropped
        if (slot.busy !== job || slot.exchange !== id) return
        const transfer: ArrayBuffer[] = []
        const wire = toWire([chunk], transfer)
        if (wire === undefined) return
        post({ t: 'body', id, chunk: wire }, transfer.length ? transfer : undefined)
        slot.bodyUnacked += chunk.length
        if (slot.bodyUnacked >= BODY_WINDOW) req.pause()
      })
      req.once('end', () => {
        if (slot.exchange === id) post({ t: 'body-end', id })
      })
    }
    // the client went away mid-request: the thread abandons it too
    res.once('close', () => {
      if (slot.busy === job && slot.exchange === id) {
        post({ t: 'abort', id })
        release(slot)
      }
    })
  }

  /** A part of the thread's answer: copied onto the client's response. */
  function answer(slot: Slot, m: ResponsePart): void {
    const job = slot.busy
    if (!job || slot.exchange !== m.id) return
    const res = job.res
    // the edge answered for it already (a framing error in its body): the thread's answer is moot
    if (res.writableEnded) {
      if (m.end) release(slot)
      return
    }
    if (m.head) {
      const h = m.head.headers
      // the app's headers replace the edge's (its own Server header wins); a repeated one
      // (Set-Cookie) stays repeated: writeHead's array form would keep only the last
      const seen = new Set<string>()
      for (let i = 0; i < h.length; i += 2) {
        const lower = h[i]!.toLowerCase()
        if (RESPONSE_HOP.has(lower)) continue
        if (seen.has(lower)) res.appendHeader(h[i]!, h[i + 1]!)
        else {
          seen.add(lower)
          res.setHeader(h[i]!, h[i + 1]!)
        }
      }
      // the app's own Connection: close ends this connection after the response
      if (m.head.close) res.shouldKeepAlive = false
      res.writeHead(m.head.status, m.head.reason)
    }
    let bytes = 0
    if (m.body !== undefined) {
      bytes = wireBytes(m.body)
      if (typeof m.body === 'string') res.write(m.body, 'latin1')
      else res.write(m.body)
    }
    if (m.end) {
      release(slot)
      // a body the app left unread must still be read off the connection, or the next
      // request on it would never be parsed
      if (job.req.isPaused()) job.req.resume()
      if (m.trailers) {
        const pairs: [string, string][] = []
        for (let i = 0; i < m.trailers.length; i += 2) pairs.push([m.trailers[i]!, m.trailers[i + 1]!])
        res.addTrailers(pairs)
      }
      res.end()
      return
    }
    // More to come. Bytes the client has taken are acknowledged in batches of a quarter
    // window, so a streamed answer costs one extra message per 256 KiB, not per chunk.
    if (bytes === 0) return
    const ack = () => {
      if (slot.exchange !== m.id) return
      slot.written += bytes
      if (slot.written < RESPONSE_WINDOW / 4) return
      slot.worker.postMessage({ t: 'ack', id: m.id, bytes: slot.written } satisfies ToThread)
      slot.written = 0
    }
    if (res.writableNeedDrain) res.once('drain', ack)
    else ack()
  }

  /** A 1xx the app sent from its thread, written to the client before the response. */
  function informational(res: ServerResponse, status: number, headers: string[]): void {
    if (res.headersSent || res.destroyed) return
    if (status === 100) return res.writeContinue()
    if (status === 102) return res.writeProcessing()
    if (status === 103) {
      const hints: Record<string, string | string[]> = {}
      for (let i = 0; i < headers.length; i += 2) {
        const k = headers[i]!.toLowerCase()
        const prev = hints[k]
        hints[k] = prev === undefined ? headers[i + 1]! : [...(Array.isArray(prev) ? prev : [prev]), headers[i + 1]!]
      }
      if (hints.link !== undefined) res.writeEarlyHints(hints)
    }
  }

  /** The client as the thread's stand-in socket shows it: address (a PROXY header's, if any), TLS. */
  function remoteOf(s: Socket): Remote {
    const remote: Remote = { address: s.remoteAddress, port: s.remotePort, family: s.remoteFamily, encrypted: false }
    if (!(s instanceof TLSSocket)) return remote
    remote.encrypted = true
    const cert = s.getPeerCertificate()
    remote.tls = {
      authorized: s.authorized,
      authorizationError: s.authorizationError ? String(s.authorizationError) : undefined,
      alpnProtocol: s.alpnProtocol ?? false,
      peerCertificate: cert && cert.subject ? { subject: { ...cert.subject }, issuer: { ...cert.issuer }, valid_from: cert.valid_from, valid_to: cert.valid_to, serialNumber: cert.serialNumber, fingerprint256: cert.fingerprint256 } : null,
    }
    return remote
  }

  function internalError(res: ServerResponse): void {
    if (res.destroyed || res.headersSent) {
      res.destroy()
      return
    }
    res.writeHead(500, { 'Content-Type': 'text/plain', Connection: 'close' })
    res.end('Internal Server Error\n')
  }

  return {
    size: opts.threads,
    get hasUpgrade() {
      return hasUpgrade
    },
    dispatch(req, res, ref) {
      queue.push({ req, res, ref })
      pump()
      opts.onChange()
    },
    running: () => slots.filter((s) => s.busy).length,
    queued: () => queue.length,
    slots: () => slots.map((s) => s.busy !== null),
    saturated: () => slots.every((s) => s.busy) && queue.length >= slots.length,
    spare: () => slots.some((s) => s.ready && !s.busy),
    closeApps() {
      const each = slots.map(
        (s) =>
          new Promise<string | undefined>((resolve) => {
            s.worker.once('app-closed', resolve)
            s.worker.once('exit', () => resolve(undefined))
            s.worker.postMessage({ t: 'close' } satisfies ToThread)
          }),
      )
      return Promise.all(each).then((errors) => errors.filter((e): e is string => e !== undefined))
    },
    async close() {
      closing = true
      await Promise.all(slots.map((s) => s.worker.terminate().catch(() => 0)))
    },
  }
}
