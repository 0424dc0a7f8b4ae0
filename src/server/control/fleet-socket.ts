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
 *
 * Servers on this machine are reached through their Unix control sockets instead, with no
 * token (file modes guard those sockets, and this server runs as their user):
 *
 *   page --ws /fleet--> { type: 'fleet.local', token }  <-- { type: 'fleet.local', dir, servers: [{ address: 'unix:PATH', name }] }, closed
 *   page --ws /fleet--> { type: 'fleet.open', token, address: 'unix:PATH' } --unixRelay--> that master's control socket
 *
 * Only `.sock` files in paddock's socket directory are relayed to (live-sockets.ts
 * localSocketPath), so the page cannot be relayed to any other Unix socket.
 */
import type { WebSocket } from 'ws'
import type { ControlSession } from './control-server.js'
import { isLocalAddress } from '../../shared/fleet-address.js'
import { localServers, localSocketPath } from './live-sockets.js'
import { parseRemote } from './remote.js'
import { tcpRelay, unixRelay } from './relay.js'
import { tokenMatches } from './tcp-endpoint.js'
import { defaultSocketDir } from './unix-socket.js'

export interface FleetOpen {
  type: 'fleet.open'
  /** the dashboard's own token (from the page URL's fragment) */
  token: string
  /** HOST:PORT or tls://HOST:PORT of the remote control endpoint */
  address: string
  /** the remote endpoint's token (none for a local server's unix: address) */
  remoteToken?: string
  /** PEM CA bundle to trust the remote's certificate with (turns TLS on) */
  ca?: string
}

const send = (ws: WebSocket, frame: unknown) => {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame))
}

/** Asks for the servers running on this machine; answered with a `fleet.local` frame, then closed. */
export interface FleetLocal {
  type: 'fleet.local'
  token: string
}

export interface FleetRelayOptions {
  /** where local servers' control sockets are (default $XDG_RUNTIME_DIR/paddock/) */
  localDir?: string
  /**
   * The client certificate this dashboard presents to every TLS endpoint (paddock dashboard
   * --fleet-certfile/--fleet-keyfile). One for the dashboard, not one per server in the page:
   * the private key stays in a file that this process reads, and never crosses the page's
   * WebSocket or sits in a browser tab.
   */
  clientCert?: { cert: Buffer; key: Buffer }
}

export function attachFleet(ws: WebSocket, dashboardToken: string, opts: FleetRelayOptions = {}): void {
  const localDir = opts.localDir ?? defaultSocketDir()
  let session: ControlSession | null = null
  let listing = false
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
    if (listing) return
    clearTimeout(timer)
    const first = frame as { type?: unknown; token?: unknown } | null
    if ((first?.type !== 'fleet.open' && first?.type !== 'fleet.local') || !tokenMatches(first.token, dashboardToken)) {
      return refuse(4401, 'missing or wrong dashboard token; open the URL printed by paddock')
    }
    if (first.type === 'fleet.local') {
      listing = true
      void localServers(localDir).then((found) => {
        send(ws, { type: 'fleet.local', ...found })
        ws.close(1000, 'listed')
      })
      return
    }
    const open = frame as Partial<FleetOpen>
    if (isLocalAddress(String(open.address ?? ''))) {
      let sockPath: string
      try {
        sockPath = localSocketPath(String(open.address), localDir)
      } catch (err) {
        return refuse(4400, (err as Error).message)
      }
      session = unixRelay(sockPath).subscribe({
        send: (f) => send(ws, f),
        close: (reason) => ws.close(4502, reason.slice(0, 120)),
      })
      return
    }
    if (typeof open.remoteToken !== 'string' || !open.remoteToken) return refuse(4400, "give the server's control token")
    let target
    try {
      target = parseRemote(String(open.address ?? ''), Boolean(open.ca))
    } catch (err) {
      return refuse(4400, (err as Error).message)
    }
    session = tcpRelay(target, { token: open.remoteToken, ca: open.ca || undefined, ...opts.clientCert }).subscribe({
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
