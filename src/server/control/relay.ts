/**
 * Relays: a control session whose frames pass through this process to an arbiter elsewhere.
 *
 * `dashboard --attach SOCKET`: each browser session gets its own connection to the
 * arbiter's control socket, and frames pass through unchanged. The browser is
 * authenticated by the web server before anything is relayed.
 */
import type { ControlClient, ControlSession } from './control-server.js'
import { encodeFrame, FrameDecoder } from './framing.js'
import { connectUnix } from './unix-socket.js'
import { connectRemote, describeClientCertAlert, describeConnectError, type RemoteCredentials, type RemoteTarget } from './remote.js'

/** Where the dashboards take their client certificate from, for the message when a server wants one. */
const GIVE_FLEET_CERT = 'give the dashboard one (paddock dashboard --fleet-certfile FILE --fleet-keyfile FILE; the desktop app: PADDOCK_FLEET_CERTFILE and PADDOCK_FLEET_KEYFILE)'

export function unixRelay(sockPath: string): { subscribe(client: ControlClient): ControlSession } {
  return {
    subscribe(client) {
      const pending: Buffer[] = []
      let sock: import('node:net').Socket | null = null
      let closed = false
      connectUnix(sockPath).then(
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
          s.on('close', () => client.close?.('the arbiter closed the control socket'))
          s.on('error', () => {})
          for (const b of pending.splice(0)) s.write(b)
        },
        (err: NodeJS.ErrnoException) => {
          client.send({ type: 'error', error: { code: 'PADDOCK_ERR_INTERNAL', message: `cannot reach the arbiter at ${sockPath}: ${err.code ?? err.message}` } })
          client.close?.('arbiter unreachable')
        },
      )
      return {
        receive: async (frame) => {
          const b = encodeFrame(frame)
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

/**
 * A remote server's TCP control endpoint, as a Subscribable like the unix relay: each
 * subscriber gets its own connection, and its hello leaves with the endpoint's token added
 * here, so the token stays in this process (the browser sends it once, in a message body,
 * never in a URL; the Electron renderer never sends it at all).
 */
export function tcpRelay(target: RemoteTarget, creds: RemoteCredentials): { subscribe(client: ControlClient): ControlSession } {
  return {
    subscribe(client) {
      const pending: Buffer[] = []
      let sock: import('node:net').Socket | null = null
      let closed = false
      const withToken = (frame: unknown): unknown => {
        const f = frame as { type?: unknown }
        return f && typeof f === 'object' && f.type === 'hello' ? { ...f, token: creds.token } : frame
      }
      connectRemote(target, creds).then(
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
            if (!closed) client.close?.(`${target.label} closed the connection`)
          })
          s.on('error', (err: NodeJS.ErrnoException) => {
            // TLS 1.3: a refused client certificate arrives after the connect; retrying cannot fix it, so it is an AUTH refusal
            const alert = describeClientCertAlert(err, GIVE_FLEET_CERT)
            if (alert && !closed) client.send({ type: 'error', error: { code: 'PADDOCK_ERR_AUTH', message: `${target.label}: ${alert}` } })
          })
          for (const b of pending.splice(0)) s.write(b)
        },
        (err: NodeJS.ErrnoException) => {
          if (closed) return
          const alert = describeClientCertAlert(err, GIVE_FLEET_CERT)
          client.send({ type: 'error', error: alert ? { code: 'PADDOCK_ERR_AUTH', message: `${target.label}: ${alert}` } : { code: 'PADDOCK_ERR_INTERNAL', message: describeConnectError(target, err) } })
          client.close?.('server unreachable')
        },
      )
      return {
        receive: async (frame) => {
          const b = encodeFrame(withToken(frame))
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
