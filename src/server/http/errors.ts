import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { STATUS_CODES } from 'node:http'
import { kLastRequest, kRes, type PaddockSocket } from '../symbols.js'

/** An error answer that closes the connection, as Gunicorn does for every protocol error. */
export function rejectResponse(res: ServerResponse, status: number, reason: string): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = `${status} ${STATUS_CODES[status] ?? 'Error'}: ${reason}\n`
  res.shouldKeepAlive = false
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' })
  res.end(body)
}

/** answers already sent with keep-alive, whose connection closes once they are written */
const closingAfter = new WeakSet<ServerResponse>()

/**
 * For parser errors ('clientError'). Which answer, if any, depends on where the bad bytes are:
 *   in the body of the last request, whose answer has not started  -> that answer is the 4xx
 *   in the body of the last request, answered already (an app that
 *     answered before reading its body)                              -> close, no second answer
 *   after a complete request whose answer is still being made        -> that answer first, then close
 *   at the start of a new request, nothing in flight                  -> a 4xx, then close
 */
export function rejectSocket(socket: Socket, status: number, reason: string): void {
  const s = socket as PaddockSocket
  const inFlight = s._httpMessage as ServerResponse | undefined
  const last = s[kLastRequest]
  if (last && !last.complete) {
    const res = (last as IncomingMessage & { [kRes]?: ServerResponse | null })[kRes]
    // its answer waits behind an earlier one (pipelined) or is being made: it becomes the 4xx
    if (res && !res.headersSent && socket.writable) rejectResponse(res, status, reason)
    else if (res && res.headersSent && !res.writableFinished) closeAfter(res, socket)
    else socket.destroy()
    return
  }
  if (inFlight) {
    // Node calls this again for every further chunk it cannot parse: once is enough
    if (!inFlight.headersSent) inFlight.shouldKeepAlive = false
    else closeAfter(inFlight, socket)
    return
  }
  answerSocket(socket, status, reason)
}

function closeAfter(res: ServerResponse, socket: Socket): void {
  if (res.writableFinished) return socket.destroySoon()
  if (closingAfter.has(res)) return
  closingAfter.add(res)
  res.once('finish', () => socket.destroySoon())
}

/** A 4xx/5xx written straight to a connection no response object owns, then closed. */
export function answerSocket(socket: Socket, status: number, reason: string): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const text = STATUS_CODES[status] ?? 'Error'
  const body = `${status} ${text}: ${reason}\n`
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
}

export function clientErrorStatus(err: NodeJS.ErrnoException): { status: number; reason: string } {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: 'request header fields too large' }
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'request not received in time' }
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return { status: 400, reason: 'conflicting or invalid message framing' }
    case 'HPE_INVALID_METHOD':
      return { status: 400, reason: 'invalid method' }
    default:
      return { status: 400, reason: 'malformed request' }
  }
}

/** paddock's 'clientError' listener: the answer rejectSocket picks, or a silent close. */
export function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy()
  const { status, reason } = clientErrorStatus(err)
  rejectSocket(socket, status, reason)
}
