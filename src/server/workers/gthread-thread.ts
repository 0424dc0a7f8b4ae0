/**
 * One thread of a gthread worker. It loads its own copy of the app, listens on its own
 * duplicate of each listening socket (inherited by the process at fork: sockets cannot
 * be handed to threads afterwards), and runs at most one request at a time:
 *   - while a request runs, the thread stops accepting, so new connections wait in the
 *     kernel backlog for an idle thread (here or in another worker process);
 *   - a request arriving on one of its kept-alive connections while it is busy waits in a
 *     small queue (reported as `queued`); an idle kept-alive connection holds nothing.
 */
import net from 'node:net'
import { parentPort, workerData, threadId } from 'node:worker_threads'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { loadApp } from '../app/load.js'
import { createHttpServer } from '../http/server.js'
import { WorkerCounters } from '../worker/stats.js'
import { AcceptGate } from './accept.js'
import { describeError } from '../errors.js'

export interface ThreadData {
  index: number
  fds: number[]
  settings: Record<string, unknown>
  generation: number
  pid: number
  heartbeatMs: number
}

export type ThreadMessage =
  | { t: 'ready' }
  | { t: 'boot-error'; error: string }
  | { t: 'beat'; beat: ReturnType<WorkerCounters['beat']>; busy: boolean }
  | { t: 'req'; request: { method: string; url: string; startedAt: number; thread: number } }
  | { t: 'log'; level: 'error' | 'warning'; message: string }
  | { t: 'drained' }

const data = workerData as ThreadData
const post = (m: ThreadMessage) => parentPort!.postMessage(m)
const counters = new WorkerCounters(data.pid, data.generation)
const limit = Number(data.settings.worker_connections ?? 1000)
let draining = false
let busy = false
const waiting: [IncomingMessage, ServerResponse][] = []
const sockets = new Set<net.Socket>()
const listeners: net.Server[] = []
let gate: AcceptGate

function updateGate(): void {
  if (busy || draining || sockets.size >= limit) gate.pause()
  else gate.resume()
}

async function boot(): Promise<void> {
  const app = await loadApp(String(data.settings.app), { factory: data.settings.factory === true, interface: String(data.settings.interface ?? 'auto') })
  const run = (req: IncomingMessage, res: ServerResponse) => {
    busy = true
    updateGate()
    let released = false
    const release = () => {
      if (released) return
      released = true
      busy = false
      const next = waiting.shift()
      counters.queued = waiting.length
      if (next) run(...next)
      else updateGate()
      if (draining) maybeExit()
    }
    res.once('finish', release)
    res.once('close', release)
    return app.listener(req, res)
  }
  const server = createHttpServer({
    settings: data.settings,
    listener: (req, res) => {
      if (!busy) return run(req, res)
      waiting.push([req, res])
      counters.queued = waiting.length
    },
    counters,
    keepAlive: true,
    thread: data.index,
    isDraining: () => draining,
    onRequestStart: (ref) => post({ t: 'req', request: { method: ref.method, url: ref.url, startedAt: ref.startedAt, thread: data.index } }),
    onAppError: (err, req) => post({ t: 'log', level: 'error', message: `error handling ${req.method} ${req.url} (thread ${data.index}): ${(err as Error)?.stack ?? String(err)}` }),
  })
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket)
    counters.connections = sockets.size
    updateGate()
    socket.once('close', () => {
      sockets.delete(socket)
      counters.connections = sockets.size
      updateGate()
      if (draining) maybeExit()
    })
  })
  for (const fd of data.fds) {
    const ln = net.createServer((socket) => server.emit('connection', socket))
    await new Promise<void>((resolve, reject) => {
      ln.once('error', reject)
      ln.listen({ fd, backlog: Number(data.settings.backlog ?? 2048) }, () => resolve())
    })
    listeners.push(ln)
  }
  gate = new AcceptGate(listeners)
  if (!gate.supported) post({ t: 'log', level: 'warning', message: 'accept control is not available: a busy thread may accept connections (they wait for it)' })
  post({ t: 'ready' })
  beat()
}

function beat(): void {
  post({ t: 'beat', beat: counters.beat(), busy })
  setTimeout(beat, data.heartbeatMs).unref()
}

function maybeExit(): void {
  if (!busy && waiting.length === 0 && sockets.size === 0) {
    post({ t: 'drained' })
    setImmediate(() => process.exit(0))
  }
}

parentPort!.on('message', (m: { t: string }) => {
  if (m.t !== 'drain' || draining) return
  draining = true
  for (const ln of listeners) ln.close()
  const closeIdle = () => {
    for (const s of sockets) {
      const sock = s as net.Socket & { _httpMessage?: unknown; paddockIdleSince?: number }
      if (sock._httpMessage) sock.paddockIdleSince = undefined
      else {
        sock.paddockIdleSince ??= Date.now()
        if (Date.now() - sock.paddockIdleSince >= 250) sock.destroySoon()
      }
    }
    maybeExit()
    setTimeout(closeIdle, 50).unref()
  }
  closeIdle()
})

boot().catch((err) => post({ t: 'boot-error', error: describeError(err) }))
void threadId
