/**
 * `dashboard --attach SOCKET`: each browser session gets its own connection to the
 * arbiter's control socket, and frames pass through unchanged. The browser is
 * authenticated by the web server before anything is relayed.
 */
import type { ControlClient, ControlSession } from './control-server.js'
import { encodeFrame, FrameDecoder } from './framing.js'
import { connectUnix } from './unix-socket.js'

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
