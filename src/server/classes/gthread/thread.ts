/**
 * One thread of a gthread worker (see pool.ts for the whole picture). It loads its own
 * copy of the app and runs the requests the process's main thread hands it, one at a time.
 *
 * A request arrives as one message (method, url, headers, the client's address), its body,
 * if any, as further messages. The app gets a real `IncomingMessage` and `ServerResponse`,
 * bound to a stand-in socket that captures what Node writes: the response head is parsed
 * here once, and the head, the body bytes and the end go back to the main thread in as few
 * messages as possible (one for a small response). No HTTP is parsed twice.
 */
import http from 'node:http'
import { Duplex } from 'node:stream'
import { parentPort, workerData } from 'node:worker_threads'
import { callClose, loadApp } from '../../app/load.js'
import { describeError } from '../../errors.js'
import { findHeader } from '../../http/headers.js'
import { RESPONSE_WINDOW, fromWire, toWire, wireBytes, type Remote, type ResponsePart, type ThreadData, type ThreadMessage, type ToThread } from './messages.js'

const data = workerData as ThreadData
const port = parentPort!
const post = (m: ThreadMessage, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer)
const CRLFCRLF = Buffer.from('\r\n\r\n')

interface Exchange {
  req: http.IncomingMessage
  res: http.ServerResponse
  socket: CaptureSocket
  /** body bytes pushed into req and not yet acknowledged */
  bodyPushed: number
}
const exchanges = new Map<number, Exchange>()

/**
 * The socket an app's request and response are bound to. Node's ServerResponse writes the
 * serialized head and the body into it; it turns them back into parts for the main thread.
 * Writes wait (backpressure) once RESPONSE_WINDOW bytes are not yet acknowledged.
 */
class CaptureSocket extends Duplex {
  private head = ''
  private headDone = false
  private headSent = false
  /** an app that set Transfer-Encoding: chunked itself gets Node's framing: undone here */
  private unchunk: Unchunker | null = null
  private pending: Uint8Array[] = []
  private flushScheduled = false
  private unacked = 0
  private blocked: (() => void) | null = null
  ended = false

  /** the app set a Connection header that asks to close */
  appClose = false

  constructor(readonly id: number, remote: Remote) {
    super({ allowHalfOpen: true })
    // what apps read from req.socket: the real client's address
    Object.assign(this, { remoteAddress: remote.address, remotePort: remote.port, remoteFamily: remote.family, encrypted: remote.encrypted || undefined })
    if (remote.tls) {
      const t = remote.tls
      Object.assign(this, { authorized: t.authorized, authorizationError: t.authorizationError, alpnProtocol: t.alpnProtocol, getPeerCertificate: () => t.peerCertificate ?? {} })
    }
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.capture(chunk)
    this.afterWrite(chunk.length, cb)
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    let n = 0
    for (const { chunk } of chunks) {
      this.capture(chunk)
      n += chunk.length
    }
    this.afterWrite(n, cb)
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // a response that broke off midway: the main thread cuts its connection too
    if (!this.ended && exchanges.delete(this.id)) post({ t: 'reset', id: this.id })
    this.release()
    cb(err)
  }

  /** The response is complete: send what is left with the end mark. */
  finish(): void {
    this.ended = true
    this.flush()
  }

  ack(bytes: number): void {
    this.unacked -= bytes
    if (this.unacked < RESPONSE_WINDOW) this.release()
  }

  private release(): void {
    const go = this.blocked
    this.blocked = null
    go?.()
  }

  private afterWrite(n: number, cb: () => void): void {
    this.unacked += n
    if (!this.flushScheduled) {
      this.flushScheduled = true
      // a response written in one go (writeHead + end) leaves as one message at 'finish'
      setImmediate(() => this.flush())
    }
    if (this.unacked >= RESPONSE_WINDOW) this.blocked = cb
    else cb()
  }

  private capture(chunk: Buffer): void {
    if (this.headDone) {
      this.body(chunk)
      return
    }
    // the head is the first thing Node writes, possibly with the start of the body
    const at = chunk.indexOf(CRLFCRLF)
    if (at < 0) {
      this.head += chunk.toString('latin1')
      return
    }
    this.head += chunk.toString('latin1', 0, at)
    const status = Number(this.head.slice(9, 12))
    if (status >= 100 && status < 200 && status !== 101) {
      // an informational answer (writeEarlyHints, writeProcessing): passed on as it is, and
      // the real head follows
      const info = parseHead(this.head)
      this.head = ''
      if (exchanges.has(this.id)) post({ t: 'info', id: this.id, status: info.status, headers: info.headers })
      if (at + 4 < chunk.length) this.capture(chunk.subarray(at + 4))
      return
    }
    this.headDone = true
    if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(this.head)) this.unchunk = new Unchunker()
    if (at + 4 < chunk.length) this.body(chunk.subarray(at + 4))
  }

  private body(chunk: Buffer): void {
    if (this.unchunk) this.pending.push(...this.unchunk.feed(chunk))
    else this.pending.push(chunk)
  }

  private flush(): void {
    this.flushScheduled = false
    if (!exchanges.has(this.id)) return
    if (!this.headDone && !this.ended) return
    const transfer: ArrayBuffer[] = []
    const part: ResponsePart = { t: 'res', id: this.id, body: toWire(this.pending, transfer), end: this.ended }
    if (!this.headSent && this.headDone) {
      part.head = parseHead(this.head)
      if (this.appClose) part.head.close = true
      this.headSent = true
    }
    if (this.ended && this.unchunk?.trailers.length) part.trailers = this.unchunk.trailers
    this.pending = []
    if (!part.head && part.body === undefined && !part.end) return
    post(part, transfer.length ? transfer : undefined)
    if (this.ended) exchanges.delete(this.id)
  }
}

/** Undoes chunked framing as Node writes it: `hex-size CRLF data CRLF`, ending with `0 CRLF [trailers] CRLF`. */
class Unchunker {
  private left = 0
  private line = ''
  private state: 'size' | 'data' | 'crlf' | 'trailers' | 'done' = 'size'
  /** trailer fields after the last chunk, flat [name, value, ...] */
  readonly trailers: string[] = []

  feed(buf: Buffer): Buffer[] {
    const out: Buffer[] = []
    let i = 0
    while (i < buf.length && this.state !== 'done') {
      if (this.state === 'size') {
        const nl = buf.indexOf(10, i)
        if (nl < 0) {
          this.line += buf.toString('latin1', i)
          break
        }
        this.line += buf.toString('latin1', i, nl)
        i = nl + 1
        this.left = parseInt(this.line.trim(), 16)
        this.line = ''
        // the last chunk: trailer lines follow, up to an empty line
        this.state = this.left > 0 ? 'data' : 'trailers'
      } else if (this.state === 'trailers') {
        const nl = buf.indexOf(10, i)
        if (nl < 0) {
          this.line += buf.toString('latin1', i)
          break
        }
        const line = (this.line + buf.toString('latin1', i, nl)).replace(/\r$/, '')
        this.line = ''
        i = nl + 1
        const colon = line.indexOf(':')
        if (line === '') this.state = 'done'
        else if (colon > 0) this.trailers.push(line.slice(0, colon), line.slice(colon + 1).trim())
      } else if (this.state === 'data') {
        const n = Math.min(this.left, buf.length - i)
        out.push(buf.subarray(i, i + n))
        i += n
        this.left -= n
        if (this.left === 0) this.state = 'crlf'
      } else {
        const nl = buf.indexOf(10, i)
        if (nl < 0) break
        i = nl + 1
        this.state = 'size'
      }
    }
    return out
  }
}

/** "HTTP/1.1 200 OK\r\nName: value\r\n..." as Node wrote it (one header per line, validated). */
function parseHead(text: string): { status: number; reason: string; headers: string[] } {
  const lines = text.split('\r\n')
  const first = lines[0]!
  const status = Number(first.slice(9, 12))
  const reason = first.slice(13)
  const headers: string[] = []
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!
    const colon = line.indexOf(':')
    if (colon > 0) headers.push(line.slice(0, colon), line.slice(colon + 1).trim())
  }
  return { status, reason, headers }
}

function start(app: Awaited<ReturnType<typeof loadApp>>, m: Extract<ToThread, { t: 'req' }>): void {
  const socket = new CaptureSocket(m.id, m.remote)
  const req = new http.IncomingMessage(socket as unknown as import('node:net').Socket)
  req.method = m.method
  req.url = m.url
  req.httpVersion = m.httpVersion
  req.httpVersionMajor = Number(m.httpVersion[0])
  req.httpVersionMinor = Number(m.httpVersion[2])
  const addHeaderLines = (req as unknown as { _addHeaderLines?: (h: string[], n: number) => void })._addHeaderLines
  if (typeof addHeaderLines === 'function') addHeaderLines.call(req, m.headers, m.headers.length)
  else {
    req.rawHeaders = m.headers
    const headers: Record<string, string> = {}
    for (let i = 0; i < m.headers.length; i += 2) {
      const k = m.headers[i]!.toLowerCase()
      headers[k] = headers[k] === undefined ? m.headers[i + 1]! : `${headers[k]}, ${m.headers[i + 1]}`
    }
    req.headers = headers
  }
  if (!m.body) {
    req.complete = true
    req.push(null)
  } else {
    // Node asks for more (_read) once the app has drained what was pushed: that is when the
    // main thread may send more of the body (see BODY_WINDOW)
    const read = req._read
    req._read = function (this: http.IncomingMessage, n: number) {
      const x = exchanges.get(m.id)
      if (x && x.bodyPushed > 0) {
        post({ t: 'body-ack', id: m.id, bytes: x.bodyPushed })
        x.bodyPushed = 0
      }
      return read.call(this, n)
    }
  }
  const res = new ThreadResponse(req)
  // Close-delimited from Node's point of view: no chunked framing in the bytes it writes,
  // so they are the body itself. The main thread frames them for the real connection and
  // decides about keep-alive; the Connection header Node adds here is dropped there.
  res.shouldKeepAlive = false
  res.useChunkedEncodingByDefault = false
  res.assignSocket(socket as unknown as import('node:net').Socket)
  // http.Server relays its socket's 'drain' to the response; without one, nobody would
  socket.on('drain', () => {
    if (!res.writableFinished) res.emit('drain')
  })
  exchanges.set(m.id, { req, res, socket, bodyPushed: 0 })
  res.once('finish', () => {
    socket.finish()
    // as http.Server does once a response is done: the request and response both close
    if (!req.complete) req._dump?.()
    // destroyed only once its own writes completed: earlier, Node fails their callbacks
    socket.once('finish', () => socket.destroy())
    socket.end()
  })
  const failed = (err: unknown) => {
    post({ t: 'log', level: 'error', message: `error handling ${m.method} ${m.url} (thread ${data.index}): ${(err as Error)?.stack ?? String(err)}` })
    if (!res.headersSent) {
      res.writeHead(500, 'Internal Server Error', { 'Content-Type': 'text/plain', 'Content-Length': '22' })
      res.end('Internal Server Error\n')
    } else socket.destroy()
  }
  try {
    const out = app.listener(req, res)
    if (out && typeof (out as Promise<unknown>).then === 'function') (out as Promise<unknown>).then(undefined, failed)
  } catch (err) {
    failed(err)
  }
}

/** Whether a Connection header's value (a string, or a list of them) asks to close. */
const asksClose = (v: unknown) => /(^|,)\s*close\s*(,|$)/i.test(Array.isArray(v) ? v.join(',') : String(v ?? ''))

/**
 * The response an app writes in a thread. Before Node writes the head it notes what the
 * thread must pass on: whether the app asked for Connection: close (Node adds a Connection
 * header of its own to every response here, so the bytes cannot tell), and whether it
 * declared trailers. The app's headers are in getHeader (setHeader / appendHeader /
 * setHeaders) or in what it passes to writeHead.
 */
class ThreadResponse extends http.ServerResponse {
  override writeHead(statusCode: number, reason?: unknown, headers?: unknown): this {
    const given = typeof reason === 'string' ? headers : reason
    const socket = this.socket as unknown as CaptureSocket
    if (asksClose(findHeader(given, 'connection')?.value) || asksClose(this.getHeader('connection'))) socket.appClose = true
    // trailers need chunked framing, which Node only uses here when asked (undone above)
    if (this.getHeader('trailer') !== undefined || findHeader(given, 'trailer')) this.useChunkedEncodingByDefault = true
    return super.writeHead(statusCode, reason as string, headers as http.OutgoingHttpHeaders)
  }
}

declare module 'node:http' {
  interface IncomingMessage {
    _dump?: () => void
  }
}

async function boot(): Promise<void> {
  const app = await loadApp(String(data.settings.app), { factory: data.settings.factory === true, interface: String(data.settings.interface ?? 'auto') })
  port.on('message', (m: ToThread) => {
    switch (m.t) {
      case 'req':
        return start(app, m)
      case 'body': {
        const x = exchanges.get(m.id)
        if (!x) return
        x.bodyPushed += wireBytes(m.chunk)
        x.req.push(fromWire(m.chunk))
        return
      }
      case 'body-end': {
        const x = exchanges.get(m.id)
        if (!x) return
        x.req.complete = true
        x.req.push(null)
        return
      }
      case 'abort': {
        const x = exchanges.get(m.id)
        if (!x) return
        exchanges.delete(m.id)
        // what the app sees when a client disconnects: req 'aborted', res 'close'
        x.req.destroy()
        x.socket.destroy()
        return
      }
      case 'ack':
        exchanges.get(m.id)?.socket.ack(m.bytes)
        return
      case 'close':
        void callClose(app.close).then(([error]) => post({ t: 'closed', error }))
        return
    }
  })
  post({ t: 'ready', hasUpgrade: typeof app.upgrade === 'function' })
}

boot().catch((err) => post({ t: 'boot-error', error: describeError(err) }))
