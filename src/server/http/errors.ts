import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { STATUS_CODES } from 'node:http'

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

/** For parser errors raised before a request object exists ('clientError'). */
export function rejectSocket(socket: Socket, status: number, reason: string): void {
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage
  if (inFlight && socket.writable && !inFlight.headersSent) {
    // The head was valid and the app has the request; its body is not. Answer for the app.
    rejectResponse(inFlight, status, reason)
    return
  }
  if (!socket.writable || inFlight) {
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
