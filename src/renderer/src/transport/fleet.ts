/**
 * Transports to the servers of a fleet, one per server. The page cannot open TCP itself, so:
 * - browser: a WebSocket to /fleet on the dashboard's own loopback server, which relays to the
 *   server's TCP control endpoint (src/server/control/fleet-socket.ts). The server's token goes
 *   in the first message, never in a URL;
 * - desktop: Electron main relays the same way over IPC (window.paddock.fleet), and keeps the
 *   token itself.
 * Both reconnect with back-off (0.5 s doubling to 10 s) until closed; a refused token stops it.
 */
import type { ClientFrame, ServerFrame } from '@shared/protocol'
import type { FleetServerSpec } from '@shared/bridge'
import type { LocalServers } from '@shared/fleet-address'
import type { ControlTransport } from './types'

export type { FleetServerSpec, LocalServers }

export const FLEET_BACKOFF = { firstMs: 500, maxMs: 10_000 }

/** Close codes after which a retry cannot help: a wrong token, a malformed address. */
const FINAL_CODES = new Set([4400, 4401])

export function fleetSocketTransport(spec: FleetServerSpec, loc: Location = window.location): ControlTransport {
  const dashboardToken = new URLSearchParams(loc.hash.replace(/^#/, '')).get('token') ?? ''
  let ws: WebSocket | null = null
  let closed = false
  let refused = false
  let delay = FLEET_BACKOFF.firstMs
  let timer: ReturnType<typeof setTimeout> | null = null

  function connect(h: Parameters<ControlTransport['open']>[0]): void {
    const sock = new WebSocket(`${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/fleet`)
    ws = sock
    sock.onopen = () => {
      sock.send(JSON.stringify({ type: 'fleet.open', token: dashboardToken, address: spec.address, remoteToken: spec.token, ca: spec.ca }))
      h.onOpen()
    }
    sock.onmessage = (m) => {
      try {
        const f = JSON.parse(String(m.data)) as ServerFrame
        if (f.type === 'welcome') delay = FLEET_BACKOFF.firstMs
        if (f.type === 'error' && f.error.code === 'PADDOCK_ERR_AUTH') refused = true
        h.onFrame(f)
      } catch {
        // not JSON: the relay never sends that
      }
    }
    sock.onclose = (e) => {
      ws = null
      h.onClose(e.reason || `connection closed (${e.code})`)
      if (closed || refused || FINAL_CODES.has(e.code)) return
      timer = setTimeout(() => connect(h), delay)
      delay = Math.min(delay * 2, FLEET_BACKOFF.maxMs)
    }
  }

  return {
    kind: 'websocket',
    open: (h) => connect(h),
    send(frame: ClientFrame) {
      if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame))
      else throw new Error(`not connected to ${spec.address}`)
    },
    close() {
      closed = true
      if (timer) clearTimeout(timer)
      ws?.close()
    },
  }
}

/** Desktop: the same channel through Electron main, which holds the token. */
export function fleetBridgeTransport(bridge: NonNullable<Window['paddock']>, spec: FleetServerSpec): ControlTransport {
  let channel: string | null = null
  let closed = false
  let refused = false
  let delay = FLEET_BACKOFF.firstMs
  let timer: ReturnType<typeof setTimeout> | null = null
  let offFrame: (() => void) | null = null
  let offClose: (() => void) | null = null

  async function connect(h: Parameters<ControlTransport['open']>[0]): Promise<void> {
    try {
      channel = await bridge.fleet.open(spec)
    } catch (err) {
      h.onClose(err instanceof Error ? err.message : String(err))
      return retry(h)
    }
    if (closed) return void bridge.fleet.close(channel)
    h.onOpen()
  }
  function retry(h: Parameters<ControlTransport['open']>[0]): void {
    if (closed || refused) return
    timer = setTimeout(() => void connect(h), delay)
    delay = Math.min(delay * 2, FLEET_BACKOFF.maxMs)
  }
  return {
    kind: 'electron',
    open(h) {
      offFrame = bridge.fleet.onFrame((id, f) => {
        if (id !== channel) return
        if (f.type === 'welcome') delay = FLEET_BACKOFF.firstMs
        if (f.type === 'error' && f.error.code === 'PADDOCK_ERR_AUTH') refused = true
        h.onFrame(f)
      })
      offClose = bridge.fleet.onClose((id, reason) => {
        if (id !== channel) return
        channel = null
        h.onClose(reason)
        retry(h)
      })
      void connect(h)
    },
    send(frame) {
      if (!channel) throw new Error(`not connected to ${spec.address}`)
      bridge.fleet.send(channel, frame)
    },
    close() {
      closed = true
      if (timer) clearTimeout(timer)
      offFrame?.()
      offClose?.()
      if (channel) bridge.fleet.close(channel)
    },
  }
}

export function fleetTransport(spec: FleetServerSpec): ControlTransport {
  const bridge = typeof window !== 'undefined' ? window.paddock : undefined
  return bridge?.fleet ? fleetBridgeTransport(bridge, spec) : fleetSocketTransport(spec)
}

/**
 * The servers running on this machine (their control sockets, dead masters left out), as
 * `unix:PATH` addresses that need no token. Browser: asked of the dashboard's loopback server
 * on /fleet (one short-lived WebSocket); desktop: of Electron main.
 */
export function listLocalServers(loc: Location = window.location): Promise<LocalServers> {
  const bridge = typeof window !== 'undefined' ? window.paddock : undefined
  if (bridge?.fleet) return bridge.fleet.local()
  const dashboardToken = new URLSearchParams(loc.hash.replace(/^#/, '')).get('token') ?? ''
  return new Promise((resolve, reject) => {
    const sock = new WebSocket(`${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/fleet`)
    let answered = false
    sock.onopen = () => sock.send(JSON.stringify({ type: 'fleet.local', token: dashboardToken }))
    sock.onmessage = (m) => {
      const f = JSON.parse(String(m.data)) as { type: string; error?: { message: string } } & Partial<LocalServers>
      answered = true
      if (f.type === 'fleet.local') resolve({ dir: f.dir ?? '', servers: f.servers ?? [] })
      else reject(new Error(f.error?.message ?? 'the dashboard did not list local servers'))
      sock.close()
    }
    sock.onclose = (e) => {
      if (!answered) reject(new Error(e.reason || `the dashboard closed the connection (${e.code})`))
    }
  })
}
