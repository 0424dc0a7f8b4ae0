/**
 * Child-process entry of the load generator (dist/server/loadgen/runner.js).
 * Load is generated here, never in Electron main or a worker, so measuring
 * cannot steal the event loop of what is being measured.
 *
 * IPC in:  {type:'start', id, options} | {type:'stop'}
 * IPC out: {type:'progress', progress} every 250 ms, then {type:'result', result}
 */
import autocannon from 'autocannon'
import { performance } from 'node:perf_hooks'
import type { LoadOptions } from '../../shared/protocol.js'
import { instrument, Timetable, type AutocannonClient, type ClientState } from './client.js'
import { LoadStats, classifyError, describeCause } from './stats.js'

export const PROGRESS_MS = 250

type Msg = { type: 'start'; id: number; options: LoadOptions } | { type: 'stop' }

let instance: autocannon.Instance | null = null
/** Every connection autocannon opened, so a finished run can close them at once. */
const clients: AutocannonClient[] = []
const clientState = new WeakMap<object, ClientState>()
let stats: LoadStats | null = null
/** false during the warm-up: outcomes are dropped, not counted */
let measuring = false
let stopRequested = false
let finished = false

function send(m: unknown): void {
  if (process.send) process.send(m)
}

function finish(): void {
  if (finished || !stats) return
  finished = true
  const o = stats.options
  // Early = asked to stop, stopped in the warm-up, or ended before the amount was reached.
  const early = stopRequested || !measuring || (o.amount !== undefined && stats.requests + sumErrors() < o.amount)
  // the last figures, so a run shorter than one progress period still shows them
  send({ type: 'progress', progress: stats.progress(false) })
  send({ type: 'result', result: stats.result(early) })
  // Let the IPC message flush, then leave: autocannon may hold sockets open.
  setTimeout(() => process.exit(0), 50)
}

function sumErrors(): number {
  const e = stats!.errors
  return e.refused + e.reset + e.timeout + e.other
}

function start(id: number, o: LoadOptions): void {
  const warmupMs = (o.warmup ?? 0) * 1000
  stats = new LoadStats(id, o)
  measuring = warmupMs === 0
  const headers: Record<string, string> = { ...(o.headers ?? {}) }
  // autocannon has no "keep-alive off" switch. We send `Connection: close`: the
  // server closes after each response and autocannon's client reconnects, so every
  // request pays a TCP handshake. Not reconnectRate: 1: in autocannon 9 that path
  // skips the 'response' event, so nothing would be counted. With `amount`, autocannon
  // counts requests it wrote to a closing connection as made and stops early; we run
  // it open-ended and stop it ourselves once `amount` outcomes were recorded, closing
  // every connection on the spot: autocannon would otherwise go on sending until its
  // next tick (60 extra requests measured on 4 connections). At most `connections - 1`
  // more, already in flight, reach the server.
  if (!o.keepAlive) headers.connection = 'close'
  const timeoutSec = o.timeout ?? 10
  // Pacing is ours, not autocannon's overallRate: autocannon sends each connection's
  // share of a second in a burst and times each request from its write, so a server
  // that cannot keep up slowed the client down and hid its queue (coordinated omission).
  const timetable = o.rate ? new Timetable(o.rate) : null
  const opts: autocannon.Options = {
    url: o.url,
    method: (o.method ?? 'GET') as autocannon.Request['method'],
    connections: o.connections,
    pipelining: 1,
    timeout: timeoutSec,
    headers,
    body: o.body,
    duration: o.amount ? 24 * 3600 : (o.duration ?? 10) + warmupMs / 1000,
    setupClient: (c: unknown) => {
      const client = c as AutocannonClient
      clients.push(client)
      const state = instrument(client, {
        timetable,
        timeoutMs: timeoutSec * 1000,
        onLost: () => {
          if (!measuring || reached()) return
          stats!.error('reset', 'lost: the connection closed with a request in flight')
          check()
        },
      })
      clientState.set(client, state)
    },
  }
  const inst = autocannon(opts, () => finish())
  instance = inst
  const reached = () => o.amount !== undefined && stats!.requests + sumErrors() >= o.amount
  const check = () => {
    if (reached() && !finished) {
      // autocannon only acts on stop() at its next 1 s tick: close the connections and
      // report now. A client destroyed inside its own 'response' event still calls
      // _doRequest(), whose write goes to a destroyed socket and never leaves.
      closeClients()
      inst.stop()
      finish()
    }
  }
  inst.on('response', (client: unknown, status: number, _bytes: number, ms: number) => {
    if (!measuring || reached()) return
    // open loop: from the time the request was due; closed loop: autocannon's own figure
    const state = timetable ? clientState.get(client as object) : undefined
    stats!.response(status, state ? performance.now() - state.startedAt : ms)
    check()
  })
  inst.on('reqError', (err: Error & { code?: string }) => {
    if (!measuring || reached()) return
    stats!.error(classifyError(err), describeCause(err))
    check()
  })
  if (warmupMs > 0) {
    setTimeout(() => {
      if (finished) return
      stats = new LoadStats(id, o)
      measuring = true
    }, warmupMs).unref()
  }
  const tick = () => {
    if (finished) return
    const p = stats!.progress(true)
    send({ type: 'progress', progress: measuring ? p : { ...p, progress: 0, warmingUp: true } })
  }
  const timer = setInterval(tick, PROGRESS_MS)
  timer.unref()
}

function closeClients(): void {
  for (const c of clients) c.destroy()
}

process.on('message', (m: Msg) => {
  if (m.type === 'start') start(m.id, m.options)
  else if (m.type === 'stop') {
    stopRequested = true
    closeClients()
    if (instance) instance.stop()
    else process.exit(0)
    // autocannon calls back on stop; this is a backstop if it does not.
    setTimeout(finish, 1000).unref()
  }
})
// The parent went away: nothing to report to.
process.on('disconnect', () => process.exit(0))
