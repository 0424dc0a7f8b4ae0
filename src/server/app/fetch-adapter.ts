/**
 * Fetch-style apps (Hono, WinterCG): IncomingMessage -> Request, Response -> ServerResponse,
 * with bodies streamed both ways (no buffering of a large upload or download).
 */
import { Readable } from 'node:stream'
import type { IncomingMessage, ServerResponse } from 'node:http'

export interface FetchApp {
  fetch(request: Request, env?: unknown, ctx?: unknown): Response | Promise<Response>
}

export function toRequest(req: IncomingMessage): Request {
  const host = req.headers.host ?? 'localhost'
  const proto = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'
  const url = new URL(req.url ?? '/', `${proto}://${host}`)
  const headers = new Headers()
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1])
  const method = req.method ?? 'GET'
  const hasBody = method !== 'GET' && method !== 'HEAD'
  const controller = new AbortController()
  req.once('close', () => { if (!req.complete) controller.abort() })
  return new Request(url, {
    method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as unknown as ReadableStream) : undefined,
    signal: controller.signal,
    // Node's fetch requires this for a streamed request body.
    ...(hasBody ? { duplex: 'half' } : {}),
  } as RequestInit)
}

export async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {}
  response.headers.forEach((value, key) => {
    if (key === 'set-cookie') return
    headers[key] = value
  })
  const cookies = response.headers.getSetCookie?.() ?? []
  if (cookies.length) headers['set-cookie'] = cookies
  res.writeHead(response.status, response.statusText || undefined, headers)
  if (!response.body) {
    res.end()
    return
  }
  const reader = response.body.getReader()
  res.on('close', () => { reader.cancel().catch(() => {}) })
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    if (!res.write(value)) await new Promise<void>((r) => res.once('drain', r))
  }
  res.end()
}

export function fetchToNode(app: FetchApp) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const response = await app.fetch(toRequest(req))
    if (!(response instanceof Response)) throw new Error('fetch handler did not return a Response')
    await writeResponse(res, response)
  }
}
