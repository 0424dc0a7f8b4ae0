/**
 * The browser dashboard: static renderer files plus a WebSocket at /ws, on 127.0.0.1 only.
 * Other local users and web pages can reach 127.0.0.1 too, so every socket must prove
 * itself: Host must be our loopback origin (defeats DNS rebinding), Origin must match
 * (defeats cross-site pages), and the hello must carry the random token from the URL.
 * /fleet relays to remote servers' TCP control endpoints for the Fleet view (fleet-socket.ts).
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { WebSocketServer, type WebSocket } from 'ws'
import type { ControlServer } from './control-server.js'
import { attachFleet, type FleetRelayOptions } from './fleet-socket.js'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
}

export interface WebServerOptions {
  port?: number
  /** directory of the built renderer (default out/renderer from the package root) */
  root?: string
  token?: string
  /** how /fleet reaches servers (fleet-socket.ts) */
  fleet?: FleetRelayOptions
}

export interface WebServer {
  url: string
  port: number
  token: string
  close(): Promise<void>
}

// fileURLToPath, not .pathname: a package under a path with a space would get %20 and a 404
const DEFAULT_ROOT = fileURLToPath(new URL('../../../out/renderer', import.meta.url))

export async function startWebServer(control: Pick<ControlServer, 'subscribe'>, opts: WebServerOptions = {}): Promise<WebServer> {
  const token = opts.token ?? crypto.randomBytes(24).toString('base64url')
  const root = path.resolve(opts.root ?? DEFAULT_ROOT)
  let port = 0
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`])

  const server = http.createServer((req, res) => serveStatic(root, port, req, res))
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 })

  server.on('upgrade', (req, socket, head) => {
    const refuse = (reason: string) => {
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${reason}\n`)
    }
    const route = (req.url ?? '').split('?')[0]
    if (route !== '/ws' && route !== '/fleet') return refuse('only /ws and /fleet accept WebSocket connections')
    if (!allowedHosts().has(String(req.headers.host))) return refuse(`Host "${req.headers.host}" is not this dashboard`)
    const origin = req.headers.origin
    if (!origin || ![...allowedHosts()].some((h) => origin === `http://${h}`)) return refuse(`Origin "${origin ?? ''}" is not this dashboard`)
    // /fleet: a relay to a remote server's TCP control endpoint (fleet-socket.ts)
    wss.handleUpgrade(req, socket, head, (ws) => (route === '/fleet' ? attachFleet(ws, token, opts.fleet) : attach(control, ws, token)))
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve())
  })
  port = (server.address() as AddressInfo).port
  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/#token=${token}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate()
        wss.close()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** The first message must be hello with the token; nothing reaches the ControlServer before that. */
function attach(control: Pick<ControlServer, 'subscribe'>, ws: WebSocket, token: string): void {
  let session: ReturnType<ControlServer['subscribe']> | null = null
  const expected = Buffer.from(token)
  const timer = setTimeout(() => ws.close(4401, 'no hello with a token'), 5000)
  ws.on('message', (data) => {
    let frame: unknown
    try {
      frame = JSON.parse(String(data))
    } catch {
      ws.send(JSON.stringify({ type: 'error', error: { code: 'PADDOCK_ERR_PROTOCOL', message: 'frame is not valid JSON' } }))
      ws.close(4400, 'malformed frame')
      return
    }
    if (!session) {
      clearTimeout(timer)
      const f = frame as { type?: string; token?: unknown }
      const given = Buffer.from(typeof f.token === 'string' ? f.token : '')
      if (f.type !== 'hello' || given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
        ws.send(JSON.stringify({ type: 'error', error: { code: 'PADDOCK_ERR_AUTH', message: 'missing or wrong dashboard token; open the URL printed by paddock' } }))
        ws.close(4401, 'missing or wrong token')
        return
      }
      session = control.subscribe({
        send: (sf) => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(sf))
        },
        close: (reason) => ws.close(4400, reason.slice(0, 120)),
      })
    }
    void session.receive(frame).catch(() => {})
  })
  ws.on('close', () => {
    clearTimeout(timer)
    session?.close()
  })
  ws.on('error', () => {})
}

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

function serveStatic(root: string, port: number, req: http.IncomingMessage, res: http.ServerResponse): void {
  const host = String(req.headers.host)
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
    res.writeHead(403, { 'content-type': 'text/plain' }).end('wrong Host\n')
    return
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end()
    return
  }
  let rel: string
  try {
    rel = decodeURIComponent((req.url ?? '/').split('?')[0]!)
  } catch {
    res.writeHead(400).end()
    return
  }
  if (rel.endsWith('/')) rel += 'index.html'
  const file = path.resolve(root, '.' + path.posix.normalize(rel))
  // resolve() then prefix check: no "..", encoded or not, can leave the root
  if (rel.includes('\0') || (file !== root && !file.startsWith(root + path.sep))) {
    res.writeHead(404).end()
    return
  }
  fs.readFile(file, (err, body) => {
    if (err) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
      return
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    })
    res.end(req.method === 'HEAD' ? undefined : body)
  })
}
