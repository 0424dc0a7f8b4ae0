/**
 * The browser's way to the fleet: a page cannot open TCP connections, so the dashboard's own
 * loopback web server relays for it. The page opens a WebSocket at /fleet (same Host and
 * Origin checks as /ws) and its first message names the server:
 *
 *   page --ws /fleet--> { type: 'fleet.open', token: <dashboard token>, address, remoteToken, ca? }
 *        then hello / commands as on /ws  --tcpRelay (token added to the hello)--> remote endpoint
 *
 * The remote token travels in that message body only: never in a URL (which lands in
 * histories, proxies and logs), and this server logs none of it. One WebSocket per remote
 * server; the page reconnects each with its own back-off.
 */
import type { WebSocket } from 'ws'
import type { ControlSession } from './control-server.js'
import { parseRemote } from './remote.js'
import { tcpRelay } from './relay.js'
import { tokenMatches } from './tcp-endpoint.js'

export interface FleetOpen {
  type: 'fleet.open'
  /** the dashboard's own token (from the page URL's fragment) */
  token: string
  /** HOST:PORT or tls://HOST:PORT of the remote control endpoint */
  address: string
  /** the remote endpoint's token */
  remoteToken: string
  /** PEM CA bundle to trust the remote's certificate with (turns TLS on) */
  ca?: string
}

const send = (ws: WebSocket, frame: unknown) => {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame))
}

export function attachFleet(ws: WebSocket, dashboardToken: string): void {
  let session: ControlSession | null = null
  const timer = setTimeout(() => ws.close(4401, 'no fleet.open with a token'), 5000)
  const refuse = (code: number, message: string) => {
    send(ws, { type: 'error', error: { code: code === 4401 ? 'PADDOCK_ERR_AUTH' : 'PADDOCK_ERR_BAD_COMMAND', message } })
    ws.close(code, message.slice(0, 120))
  }
  ws.on('message', (data) => {
    let frame: unknown
    try {
      frame = JSON.parse(String(data))
    } catch {
      return refuse(4400, 'frame is not valid JSON')
    }
    if (session) return void session.receive(frame).catch(() => {})
    clearTimeout(timer)
    const open = frame as Partial<FleetOpen>
    if (open?.type !== 'fleet.open' || !tokenMatches(open.token, dashboardToken)) return refuse(4401, 'missing or wrong dashboard token; open the URL printed by paddock')
    if (typeof open.remoteToken !== 'string' || !open.remoteToken) return refuse(4400, "give the server's control token")
    let target
    try {
      target = parseRemote(String(open.address ?? ''), Boolean(open.ca))
    } catch (err) {
      return refuse(4400, (err as Error).message)
    }
    session = tcpRelay(target, { token: open.remoteToken, ca: open.ca || undefined }).subscribe({
      send: (f) => send(ws, f),
      // 4502: the remote went away; the page reconnects with back-off
      close: (reason) => ws.close(4502, reason.slice(0, 120)),
    })
  })
  ws.on('close', () => {
    clearTimeout(timer)
    session?.close()
  })
  ws.on('error', () => {})
}
