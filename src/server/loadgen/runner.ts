/**
 * Child-process entry of the load generator (dist/server/loadgen/runner.js).
 * Load is generated here, never in Electron main or a worker, so measuring
 * cannot steal the event loop of what is being measured.
 *
 * IPC in:  {type:'start', id, options} | {type:'stop'}
 * IPC out: {type:'progress', progress} every 250 ms, then {type:'result', result}
 */
import autocannon from 'autocannon'
import type { LoadOptions } from '../../shared/protocol.js'
import { LoadStats, classifyError } from './stats.js'

export const PROGRESS_MS = 250

type Msg = { type: 'start'; id: number; options: LoadOptions } | { type: 'stop' }

let instance: autocannon.Instance | null = null
/** Every connection autocannon opened, so a finished run can close them at once. */
const clients: AutocannonClient[] = []
let stats: LoadStats | null = null
let stopRequested = false
let finished = false

function send(m: unknown): void {
  if (process.send) process.send(m)
}

function finish(): void {
  if (finished || !stats) return
  finished = true
  const o = stats.options
  // Early = asked to stop, or ended before the amount was reached.
  const early = stopRequested || (o.amount !== undefined && stats.requests + sumErrors() < o.amount)
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
  stats = new LoadStats(id, o)
  const headers: Record<string, string> = { ...(o.headers ?? {}) }
  // autocannon has no "keep-alive off" switch. We send `Connection: close`: the
  // server closes after each response and autocannon's client reconnects, so every
  // request pays a TCP handshake. Not reconnectRate: 1: in autocannon 9 that path
  // skips the 'response' event, so nothing would be counted. Known gap: with
  // `amount`: autocannon counts a request written to a connection the server is
  // closing (Connection: close, or a sync worker) as made, so with closing servers it
  // stops at about half the amount. We run it open-ended and stop it ourselves once
  // `amount` outcomes were recorded, closing every connection on the spot: autocannon
  // would otherwise go on sending until its next tick (60 extra requests measured on
  // 4 connections). At most `connections - 1` more, already in flight, reach the server.
  if (!o.keepAlive) headers.connection = 'close'
  const opts: autocannon.Options = {
    url: o.url,
    method: (o.method ?? 'GET') as autocannon.Request['method'],
    connections: o.connections,
    pipelining: 1,
    timeout: o.timeout ?? 10,
    headers,
    body: o.body,
    duration: o.amount ? 24 * 3600 : (o.duration ?? 10),
    ...(o.rate ? { overallRate: o.rate } : {}),
    setupClient: (c: unknown) => {
      const client = c as AutocannonClient
      clients.push(client)
      watchForLostRequests(client, () => {
        if (reached()) return
        stats!.error('reset')
        check()
      })
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
  inst.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (reached()) return
    stats!.response(status, ms)
    check()
  })
  inst.on('reqError', (err: Error & { code?: string }) => {
    if (reached()) return
    stats!.error(classifyError(err))
    check()
  })
  const timer = setInterval(() => finished || send({ type: 'progress', progress: stats!.progress(true) }), PROGRESS_MS)
  timer.unref()
}

function closeClients(): void {
  for (const c of clients) c.destroy()
}

/** The parts of autocannon's per-connection client this file relies on (lib/httpClient.js). */
interface AutocannonClient {
  conn: import('node:net').Socket
  _connect(): void
  destroy(): void
  pipelinedRequests: { size(): number; clear(): void }
  on(event: 'headers', fn: (info: { shouldKeepAlive?: boolean }) => void): void
}

/**
 * autocannon reconnects silently when the server ends a connection, even with a request
 * still waiting on it (a worker killed mid-request closes its sockets with a FIN): that
 * request would vanish from every count. Count it as a reset, unless the server had
 * announced the close (`Connection: close`), in which case the request was never taken.
 */
function watchForLostRequests(client: AutocannonClient, lost: () => void): void {
  let announcedClose = false
  client.on('headers', (info) => (announcedClose = info.shouldKeepAlive === false))
  const connect = client._connect
  client._connect = function (this: AutocannonClient) {
    connect.call(this)
    announcedClose = false
    this.conn.prependListener('end', () => {
      const pending = this.pipelinedRequests.size()
      if (pending > 0 && !announcedClose) for (let i = 0; i < pending; i++) lost()
      // the requests died with their connection; the next one must not inherit their timing
      this.pipelinedRequests.clear()
    })
  }
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
