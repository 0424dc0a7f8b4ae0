/**
 * gthread, the process side. The process's main thread owns the listening sockets and every
 * connection (same HTTP server, limits, keep-alive and drain as async); each parsed request
 * goes to a free thread of the pool, FIFO when none is free. So a kept-alive connection
 * that is idle holds no thread, and a thread runs one request at a time.
 *
 *   client ─TCP─> main thread (http.Server: parse, limits, keep-alive)
 *                    │ dispatch(req, res) to a free thread, else queue
 *                    ▼
 *                 http.request over a Duplex bridged on the thread's MessagePort
 *                    ▼
 *   thread n: its own copy of the app behind an http.Server that never listens
 *
 * Node's own parser frames both directions: the main thread is an HTTP/1.1 client of the
 * thread (a kept-alive bridge per thread, one request at a time), and copies the answer to
 * the real response. Sockets cannot be handed to threads; bytes can.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import { Duplex } from 'node:stream'
import { Worker } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import type { ActiveRequest } from '../worker/stats.js'
import type { LogLevel } from '../../shared/protocol.js'
import type { ThreadData, ThreadMessage, ToThread } from './gthread-thread.js'

/** Hop-by-hop headers: about one connection, never forwarded (RFC 9110 7.6.1). */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect'])

interface Job {
  req: IncomingMessage
  res: ServerResponse
  ref: ActiveRequest
}

interface Slot {
  index: number
  worker: Worker
  busy: Job | null
  bridges: Map<number, Duplex>
  agent: http.Agent
  ready: boolean
}

export interface ThreadPool {
  readonly size: number
  dispatch(req: IncomingMessage, res: ServerResponse, ref: ActiveRequest): void
  running(): number
  queued(): number
  slots(): boolean[]
  /** true while every thread is busy and requests already wait: stop accepting */
  saturated(): boolean
  /** the app exports an upgrade handler (WebSockets are then served by the main thread) */
  hasUpgrade: boolean
  close(): Promise<void>
}

export async function startThreadPool(opts: {
  threads: number
  settings: Record<string, unknown>
  log: (level: LogLevel, message: string) => void
  /** called whenever a thread becomes free or busy (to re-evaluate accepting) */
  onChange: () => void
}): Promise<ThreadPool> {
  const entry = fileURLToPath(new URL('./gthread-thread.js', import.meta.url))
  const queue: Job[] = []
  let nextId = 1
  let closing = false
  let hasUpgrade = false

  function spawn(index: number): Promise<Slot> {
    const worker = new Worker(entry, { workerData: { index, settings: opts.settings } satisfies ThreadData })
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const slot: Slot = { index, worker, busy: null, bridges: new Map(), agent, ready: false }
    ;(agent as unknown as { createConnection: () => Duplex }).createConnection = () => openBridge(slot)
    return new Promise<Slot>((resolve, reject) => {
      worker.on('message', (m: ThreadMessage) => {
        switch (m.t) {
          case 'ready':
            slot.ready = true
            hasUpgrade = m.hasUpgrade
            return resolve(slot)
          case 'boot-error':
            return reject(new Error(m.error))
          case 'out':
            slot.bridges.get(m.id)?.push(Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength))
            return
          case 'out-end':
            slot.bridges.get(m.id)?.push(null)
            return
          case 'closed': {
            // the thread closed this bridge (an app that ended its connection): drop it
            const b = slot.bridges.get(m.id)
            slot.bridges.delete(m.id)
            b?.destroy()
            return
          }
          case 'log':
            return opts.log(m.level, m.message)
        }
      })
      worker.on('error', (err) => {
        opts.log('error', `thread ${index} crashed: ${err.stack ?? err}`)
        if (!slot.ready) reject(err)
      })
      worker.on('exit', () => {
        if (closing || !slot.ready) return
        // a thread that died takes its request with it; the others go on, and it is replaced
        for (const b of slot.bridges.values()) b.destroy(new Error(`thread ${index} exited`))
        slot.bridges.clear()
        agent.destroy()
        slot.busy = null
        slot.ready = false
        spawn(index).then(
          (fresh) => {
            slots[index] = fresh
            pump()
          },
          (err) => opts.log('critical', `thread ${index} could not be replaced: ${err}`),
        )
      })
    })
  }

  const slots: Slot[] = await Promise.all(Array.from({ length: opts.threads }, (_, i) => spawn(i)))

  function release(slot: Slot): void {
    slot.busy = null
    pump()
    opts.onChange()
  }

  function pump(): void {
    while (queue.length) {
      const slot = slots.find((s) => s.ready && !s.busy)
      if (!slot) return
      const job = queue.shift()!
      // the client left while its request waited: nothing to run
      if (job.res.destroyed || job.req.destroyed) continue
      run(slot, job)
    }
  }

  /**
   * The bridge to a thread: a Duplex whose bytes travel over the thread's port. The slot's
   * keep-alive agent opens one and reuses it for request after request (one at a time),
   * and opens a fresh one if it ever closes.
   */
  function openBridge(slot: Slot): Duplex {
    const id = nextId++
    const post = (m: ToThread) => slot.worker.postMessage(m)
    const bridge = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        post({ t: 'in', id, chunk })
        cb()
      },
      final(cb) {
        post({ t: 'in-end', id })
        cb()
      },
      destroy(err, cb) {
        if (slot.bridges.delete(id)) post({ t: 'abort', id })
        cb(err)
      },
    })
    // what http.Agent calls on a socket
    const self = () => bridge
    Object.assign(bridge, { setTimeout: self, setNoDelay: self, setKeepAlive: self, ref: self, unref: self })
    slot.bridges.set(id, bridge)
    post({ t: 'open', id })
    return bridge
  }

  function run(slot: Slot, job: Job): void {
    const { req, res, ref } = job
    slot.busy = job
    ref.thread = slot.index
    ref.startedAt = Date.now()
    opts.onChange()
    let released = false
    const done = () => {
      if (released) return
      released = true
      release(slot)
    }
    const s = req.socket
    // requests reach a thread one at a time, so this describes the next request on its bridge
    slot.worker.postMessage({ t: 'client', remote: { address: s.remoteAddress, port: s.remotePort, family: s.remoteFamily, encrypted: Boolean((s as { encrypted?: boolean }).encrypted) } } satisfies ToThread)

    const headers: string[] = []
    const raw = req.rawHeaders
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase()
      // headers the edge removed (untrusted forwarding headers) stay removed
      if (HOP.has(name) || req.headers[name] === undefined) continue
      headers.push(raw[i]!, raw[i + 1]!)
    }
    const inner = http.request({ method: req.method, path: req.url, headers, agent: slot.agent, setHost: false })
    inner.on('response', (answer) => {
      answer.once('end', done)
      answer.once('close', done)
      if (res.destroyed) return void answer.destroy()
      const pairs = answer.rawHeaders
      const grouped = new Map<string, { name: string; values: string[] }>()
      for (let i = 0; i < pairs.length; i += 2) {
        const lower = pairs[i]!.toLowerCase()
        if (HOP.has(lower)) continue
        const g = grouped.get(lower) ?? { name: pairs[i]!, values: [] }
        g.values.push(pairs[i + 1]!)
        grouped.set(lower, g)
      }
      for (const { name, values } of grouped.values()) res.setHeader(name, values.length === 1 ? values[0]! : values)
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage)
      answer.pipe(res)
      answer.on('error', () => res.destroy())
    })
    inner.on('error', (err) => {
      done()
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain', Connection: 'close' })
        res.end('Internal Server Error\n')
      } else res.destroy(err)
    })
    // the client went away mid-request: the thread's copy of the request is aborted too
    res.once('close', () => {
      if (!res.writableFinished) inner.destroy()
    })
    req.pipe(inner)
  }

  return {
    size: opts.threads,
    get hasUpgrade() {
      return hasUpgrade
    },
    dispatch(req, res, ref) {
      queue.push({ req, res, ref })
      pump()
      opts.onChange()
    },
    running: () => slots.filter((s) => s.busy).length,
    queued: () => queue.length,
    slots: () => slots.map((s) => s.busy !== null),
    saturated: () => slots.every((s) => s.busy) && queue.length >= slots.length,
    async close() {
      closing = true
      await Promise.all(slots.map((s) => s.worker.terminate().catch(() => 0)))
    },
  }
}
