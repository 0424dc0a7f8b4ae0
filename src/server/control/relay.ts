/**
 * Relays: a control session whose frames pass through this process to an arbiter elsewhere.
 *
 * `dashboard --attach SOCKET`: each browser session gets its own connection to the
 * arbiter's control socket, and frames pass through unchanged. The browser is
 * authenticated by the web server before anything is relayed.
 */
import type { Socket } from 'node:net'
import type { ControlClient, ControlSession } from './control-server.js'
import { encodeFrame, FrameDecoder } from './framing.js'
import { connectUnix } from './unix-socket.js'
import { connectRemote, describeClientCertAlert, describeConnectError, type RemoteCredentials, type RemoteTarget } from './remote.js'

/** Where the dashboards take their client certificate from, for the message when a server wants one. */
const GIVE_FLEET_CERT = 'give the dashboard one (paddock dashboard --fleet-certfile FILE --fleet-keyfile FILE; the desktop app: PADDOCK_FLEET_CERTFILE and PADDOCK_FLEET_KEYFILE)'

type Subscribable = { subscribe(client: ControlClient): ControlSession }

/** What differs between the relays: how they connect, and what they tell the client. */
interface RelayWays {
  connect(): Promise<Socket>
  /** a frame on its way to the server (the TCP relay adds the token to the hello) */
  outgoing?(frame: unknown): unknown
  /** the server closed the connection */
  closed(client: ControlClient): void
  /** a socket error after the connect */
  failed?(client: ControlClient, err: NodeJS.ErrnoException): void
  /** the connect failed */
  unreachable(client: ControlClient, err: NodeJS.ErrnoException): void
}

/** One connection to the server per subscriber; frames pass through, queued until it connects. */
function relay(ways: RelayWays): Subscribable {
  return {
    subscribe(client) {
      const pending: Buffer[] = []
      let sock: Socket | null = null
      let closed = false
      ways.connect().then(
        (s) => {
          if (closed) return void s.destroy()
          sock = s
          const dec = new FrameDecoder()
          s.on('data', (c) => {
            try {
              for (const f of dec.push(c)) client.send(f as never)
            } catch {
              s.destroy()
            }
          })
          s.on('close', () => {
            if (!closed) ways.closed(client)
          })
          s.on('error', (err: NodeJS.ErrnoException) => {
            if (!closed) ways.failed?.(client, err)
          })
          for (const b of pending.splice(0)) s.write(b)
        },
        (err: NodeJS.ErrnoException) => {
          if (!closed) ways.unreachable(client, err)
        },
      )
      return {
        receive: async (frame) => {
          const b = encodeFrame(ways.outgoing ? ways.outgoing(frame) : frame)
          if (sock) sock.write(b)
          else pending.push(b)
        },
        close: () => {
          closed = true
          sock?.destroy()
        },
      }
    },
  }
}

export function unixRelay(sockPath: string): Subscribable {
  return relay({
    connect: () => connectUnix(sockPath),
    closed: (client) => client.close?.('the arbiter closed the control socket'),
    unreachable: (client, err) => {
      client.send({ type: 'error', error: { code: 'PADDOCK_ERR_INTERNAL', message: `cannot reach the arbiter at ${sockPath}: ${err.code ?? err.message}` } })
      client.close?.('arbiter unreachable')
    },
  })
}

/**
 * A remote server's TCP control endpoint, as a Subscribable like the unix relay: each
 * subscriber gets its own connection, and its hello leaves with the endpoint's token added
 * here, so the token stays in this process (the browser sends it once, in a message body,
 * never in a URL; the Electron renderer never sends it at all).
 */
export function tcpRelay(target: RemoteTarget, creds: RemoteCredentials): Subscribable {
  return relay({
    connect: () => connectRemote(target, creds),
    outgoing: (frame) => {
      const f = frame as { type?: unknown }
      return f && typeof f === 'object' && f.type === 'hello' ? { ...f, token: creds.token } : frame
    },
    closed: (client) => client.close?.(`${target.label} closed the connection`),
    failed: (client, err) => {
      // TLS 1.3: a refused client certificate arrives after the connect; retrying cannot fix it, so it is an AUTH refusal
      const alert = describeClientCertAlert(err, GIVE_FLEET_CERT)
      if (alert) client.send({ type: 'error', error: { code: 'PADDOCK_ERR_AUTH', message: `${target.label}: ${alert}` } })
    },
    unreachable: (client, err) => {
      const alert = describeClientCertAlert(err, GIVE_FLEET_CERT)
      client.send({ type: 'error', error: alert ? { code: 'PADDOCK_ERR_AUTH', message: `${target.label}: ${alert}` } : { code: 'PADDOCK_ERR_INTERNAL', message: describeConnectError(target, err) } })
      client.close?.('server unreachable')
    },
  })
}
