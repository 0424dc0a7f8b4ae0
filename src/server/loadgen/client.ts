/**
 * What the runner changes in autocannon's per-connection client (lib/httpClient.js):
 * pacing for an open loop, lost-request accounting, and no request written to a
 * connection the server said it is closing.
 *
 *   response ──> _doRequest ──(server said "Connection: close")──> nothing; 'end' ──> _connect ──> _doRequest
 *                    │
 *                    ├─ closed loop: write now
 *                    └─ open loop:   claim the next due time t_k = start + k / rate
 *                                    ├─ t_k in the future: wait for it, then write
 *                                    └─ t_k past (behind schedule): write now, latency still counts from t_k
 */
import { performance } from 'node:perf_hooks'

/** The parts of autocannon's per-connection client this file relies on. */
export interface AutocannonClient {
  conn: import('node:net').Socket
  destroyed: boolean
  timeoutTicker: { reschedule(ms: number): void }
  _connect(): void
  _doRequest(): void
  destroy(): void
  pipelinedRequests: { size(): number; clear(): void }
  on(event: 'headers', fn: (info: { shouldKeepAlive?: boolean }) => void): void
}

/**
 * The open loop's timetable, shared by every connection: request k is due at
 * start + k / rate whichever connection sends it. A server that cannot keep up makes
 * the connections fall behind the timetable, and the time a request waited for a free
 * connection is part of its latency, as a user arriving at t_k would see it
 * (wrk2's answer to coordinated omission).
 */
export class Timetable {
  private issued = 0
  constructor(
    readonly rate: number,
    readonly startAt: number = performance.now(),
  ) {}

  /** The due time (performance.now() clock) of the next request. */
  claim(): number {
    return this.startAt + (this.issued++ * 1000) / this.rate
  }
}

export interface ClientState {
  /** when the request in flight was due (open loop) or written (closed loop), performance.now() clock */
  startedAt: number
}

export interface InstrumentOptions {
  timetable: Timetable | null
  /** request timeout of the client in ms: a wait for the timetable must not count as one */
  timeoutMs: number
  /** a request died with its connection without an answer */
  onLost: () => void
}

/** Hooks one client; call from autocannon's setupClient, before its first request. */
export function instrument(client: AutocannonClient, o: InstrumentOptions): ClientState {
  const state: ClientState = { startedAt: performance.now() }
  let announcedClose = false
  let waiting: NodeJS.Timeout | null = null
  client.on('headers', (info) => (announcedClose = info.shouldKeepAlive === false))

  const connect = client._connect
  client._connect = function (this: AutocannonClient) {
    // reset first: the original _connect sends the connection's first request at once
    announcedClose = false
    connect.call(this)
    this.conn.prependListener('end', () => {
      const pending = this.pipelinedRequests.size()
      // a close the server announced took no request with it; any other did
      if (pending > 0 && !announcedClose) for (let i = 0; i < pending; i++) o.onLost()
      // the requests died with their connection; the next one must not inherit their timing
      this.pipelinedRequests.clear()
    })
  }

  const send = client._doRequest
  client._doRequest = function (this: AutocannonClient) {
    if (this.destroyed) return send.call(this)
    // autocannon writes the next request right after a response, even on a connection the
    // server is closing; that request is lost, and in an open loop it would burn a due time.
    // The reconnect on 'end' sends it instead.
    if (announcedClose || waiting) return
    if (!o.timetable) {
      state.startedAt = performance.now()
      return send.call(this)
    }
    const due = o.timetable.claim()
    state.startedAt = due
    const wait = due - performance.now()
    if (wait <= 0) return send.call(this)
    // the request timer runs from the last write; waiting for the timetable is not the server's time
    this.timeoutTicker.reschedule(wait + o.timeoutMs)
    waiting = setTimeout(() => {
      waiting = null
      if (!this.destroyed) send.call(this)
    }, wait)
  }
  return state
}
