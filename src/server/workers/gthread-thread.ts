/**
 * One thread of a gthread worker (see gthread.ts for the whole picture). It loads its own
 * copy of the app and serves it from an http.Server that never listens: requests arrive
 * over a kept-alive Duplex bridged on this thread's port, from the process's main thread,
 * which sends the next request only when the previous answer has ended: a thread runs
 * one request at a time.
 */
import http from 'node:http'
import { Duplex } from 'node:stream'
import { parentPort, workerData } from 'node:worker_threads'
import { loadApp } from '../app/load.js'
import { describeError } from '../errors.js'

export interface ThreadData {
  index: number
  settings: Record<string, unknown>
}

/** main -> thread */
export type ToThread =
  | { t: 'open'; id: number }
  /** the client of the next request (requests come one at a time) */
  | { t: 'client'; remote: Remote }
  | { t: 'in'; id: number; chunk: Uint8Array }
  | { t: 'in-end'; id: number }
  | { t: 'abort'; id: number }

/** thread -> main */
export type ThreadMessage =
  | { t: 'ready'; hasUpgrade: boolean }
  | { t: 'boot-error'; error: string }
  | { t: 'out'; id: number; chunk: Uint8Array }
  | { t: 'out-end'; id: number }
  | { t: 'closed'; id: number }
  | { t: 'log'; level: 'error' | 'warning'; message: string }

const data = workerData as ThreadData
const port = parentPort!
const post = (m: ThreadMessage) => port.postMessage(m)
const bridges = new Map<number, Duplex>()
interface Remote {
  address?: string
  port?: number
  family?: string
  encrypted: boolean
}
/** the client of the request being served: what apps read from req.socket */
let client: Remote = { encrypted: false }

async function boot(): Promise<void> {
  const app = await loadApp(String(data.settings.app), { factory: data.settings.factory === true, interface: String(data.settings.interface ?? 'auto') })
  // the bridge is kept alive by the main thread for as long as it likes
  const server = http.createServer({ keepAliveTimeout: 0, headersTimeout: 0, requestTimeout: 0, requireHostHeader: false }, (req, res) => {
    const failed = (err: unknown) => {
      post({ t: 'log', level: 'error', message: `error handling ${req.method} ${req.url} (thread ${data.index}): ${(err as Error)?.stack ?? String(err)}` })
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' })
        res.end('Internal Server Error\n')
      } else res.destroy()
    }
    try {
      const out = app.listener(req, res)
      if (out && typeof (out as Promise<unknown>).then === 'function') (out as Promise<unknown>).then(undefined, failed)
    } catch (err) {
      failed(err)
    }
  })
  server.on('clientError', (_err, socket) => socket.destroy())

  port.on('message', (m: ToThread) => {
    switch (m.t) {
      case 'open':
        return open(server, m.id)
      case 'client':
        client = m.remote
        return
      case 'in':
        bridges.get(m.id)?.push(Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength))
        return
      case 'in-end':
        bridges.get(m.id)?.push(null)
        return
      case 'abort':
        bridges.get(m.id)?.destroy()
        return
    }
  })
  post({ t: 'ready', hasUpgrade: typeof app.upgrade === 'function' })
}

function open(server: http.Server, id: number): void {
  const bridge = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      post({ t: 'out', id, chunk })
      cb()
    },
    final(cb) {
      post({ t: 'out-end', id })
      cb()
    },
    destroy(err, cb) {
      if (bridges.delete(id)) post({ t: 'closed', id })
      cb(err)
    },
  })
  // what apps read from req.socket: the real client's address, not the bridge's
  Object.defineProperties(bridge, {
    remoteAddress: { get: () => client.address },
    remotePort: { get: () => client.port },
    remoteFamily: { get: () => client.family },
    encrypted: { get: () => client.encrypted || undefined },
  })
  // net.Socket methods an http.Server or an app may call on its socket
  const noop = () => bridge
  Object.assign(bridge, { setTimeout: noop, setNoDelay: noop, setKeepAlive: noop, ref: noop, unref: noop, destroySoon: () => bridge.end() })
  bridges.set(id, bridge)
  server.emit('connection', bridge)
}

boot().catch((err) => post({ t: 'boot-error', error: describeError(err) }))
