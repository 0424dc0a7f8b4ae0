/**
 * Gunicorn's request limits on top of Node's parser (llhttp). Node already rejects
 * malformed framing (CL + TE, bad chunk sizes, bad header names) with 400 before
 * the app runs; these add Gunicorn's smaller, configurable limits.
 */
import type { IncomingMessage } from 'node:http'

export interface HttpLimits {
  requestLine: number
  fields: number
  fieldSize: number
  body: number
}

export function limitsFrom(settings: Record<string, unknown>): HttpLimits {
  const line = Number(settings.limit_request_line ?? 4094)
  return {
    // Gunicorn: 0 means "unlimited", capped at 8190.
    requestLine: line === 0 ? 8190 : Math.min(line, 8190),
    fields: Number(settings.limit_request_fields ?? 100),
    fieldSize: Number(settings.limit_request_field_size ?? 8190),
    body: Number(settings.limit_request_body ?? 0),
  }
}

/** Node's maxHeaderSize covers the request line and all headers together. */
export function maxHeaderBytes(l: HttpLimits): number {
  return Math.min(l.requestLine + 2 + l.fields * (l.fieldSize + 2) + 2, 1024 * 1024)
}

export interface Rejection {
  status: number
  reason: string
}

export function checkRequest(req: IncomingMessage, l: HttpLimits): Rejection | null {
  const lineLength = (req.method?.length ?? 0) + 1 + (req.url?.length ?? 0) + 9
  // Gunicorn answers 400 (not 414) for an over-long request line.
  if (lineLength > l.requestLine) return { status: 400, reason: `request line is longer than ${l.requestLine} bytes` }
  const raw = req.rawHeaders
  if (raw.length / 2 > l.fields) return { status: 431, reason: `more than ${l.fields} header fields` }
  let hosts = 0
  let chunkedOn10 = false
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]
    if (name.length + 2 + raw[i + 1].length > l.fieldSize) return { status: 431, reason: `header field ${name} is larger than ${l.fieldSize} bytes` }
    // only names of these lengths are compared: this loop runs for every request
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++
    else if (name.length === 17 && req.httpVersionMinor === 0 && name.toLowerCase() === 'transfer-encoding') chunkedOn10 = true
  }
  // RFC 9112 3.2: a server MUST answer 400 to an HTTP/1.1 request without a Host header,
  // and to any request with more than one
  if (hosts > 1) return { status: 400, reason: 'more than one Host header' }
  if (hosts === 0 && req.httpVersionMajor === 1 && req.httpVersionMinor === 1) return { status: 400, reason: 'an HTTP/1.1 request needs a Host header' }
  // RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message is faulty framing
  if (chunkedOn10) return { status: 400, reason: 'Transfer-Encoding in an HTTP/1.0 request' }
  // absolute form (RFC 9112 3.2.2): it must parse as a URL, or every app that builds one throws
  const url = req.url ?? '/'
  if (url.charCodeAt(0) !== 0x2f /* / */ && url !== '*' && !URL.canParse(url)) return { status: 400, reason: 'the request target is not a valid URL' }
  if (l.body > 0) {
    const cl = req.headers['content-length']
    if (cl !== undefined && Number(cl) > l.body) return { status: 413, reason: `body larger than ${l.body} bytes` }
  }
  return null
}

/**
 * The RFC rules alone (Host, Transfer-Encoding in 1.0, an absolute-form target that is no
 * URL), for a server paddock does not configure: the native class's own http.Server.
 */
export function checkConformance(req: IncomingMessage): Rejection | null {
  return checkRequest(req, UNLIMITED)
}

const UNLIMITED: HttpLimits = { requestLine: Infinity, fields: Infinity, fieldSize: Infinity, body: 0 }
