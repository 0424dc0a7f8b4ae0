/**
 * Metrics exports: Prometheus text exposition (pull) and Gunicorn-named statsd (push).
 * Both read the ControlServer's enriched snapshot, so numbers match the dashboard.
 */
import dgram from 'node:dgram'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { LATENCY_BOUNDS_MS, type ArbiterSnapshot, type ControlEvent } from '../../shared/protocol.js'
import type { ControlServer } from './control-server.js'

interface Sample {
  /** a histogram's samples carry their own names (_bucket, _sum, _count) */
  name?: string
  labels: Record<string, string | number>
  value: number | null
}

interface Family {
  name: string
  type: 'counter' | 'gauge' | 'histogram'
  help: string
  samples: Sample[]
}

function escapeLabel(v: string | number): string {
  return String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

function render(families: Family[]): string {
  const lines: string[] = []
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`)
    for (const s of f.samples) {
      if (s.value === null || !Number.isFinite(s.value)) continue
      const labels = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(',')
      lines.push(`${s.name ?? f.name}${labels ? `{${labels}}` : ''} ${s.value}`)
    }
  }
  return lines.join('\n') + '\n'
}

/** Each worker's latency histogram as Prometheus wants it: cumulative buckets in seconds, _sum, _count. */
function latencyHistogram(s: ArbiterSnapshot): Family {
  const name = 'paddock_request_duration_seconds'
  const samples: Sample[] = []
  for (const x of s.workers) {
    if (!x.latency) continue
    const labels = { pid: x.pid, generation: x.generation }
    let seen = 0
    x.latency.counts.forEach((n, i) => {
      seen += n
      const le = i < LATENCY_BOUNDS_MS.length ? String(LATENCY_BOUNDS_MS[i]! / 1000) : '+Inf'
      samples.push({ name: `${name}_bucket`, labels: { ...labels, le }, value: seen })
    })
    samples.push({ name: `${name}_sum`, labels, value: x.latency.sumMs / 1000 })
    samples.push({ name: `${name}_count`, labels, value: seen })
  }
  return { name, type: 'histogram', help: 'Time from the start of a request to the end of its response, per worker.', samples }
}

/** Prometheus text format 0.0.4 for one snapshot. */
export function prometheusText(s: ArbiterSnapshot): string {
  const w = (name: string, type: Family['type'], help: string, pick: (x: ArbiterSnapshot['workers'][number]) => number | null): Family => ({
    name,
    type,
    help,
    samples: s.workers.map((x) => ({ labels: { pid: x.pid, generation: x.generation }, value: pick(x) })),
  })
  return render([
    w('paddock_requests_total', 'counter', 'Requests completed by the worker.', (x) => x.requests),
    latencyHistogram(s),
    w('paddock_worker_in_flight', 'gauge', 'Requests whose handler is running.', (x) => x.inFlight),
    w('paddock_worker_connections', 'gauge', 'Open client connections.', (x) => x.connections),
    w('paddock_worker_threads_busy', 'gauge', 'Threads running a request.', (x) => x.threadsBusy),
    w('paddock_worker_cpu_percent', 'gauge', 'CPU use of the worker process, percent of one core.', (x) => x.cpu),
    w('paddock_worker_rss_bytes', 'gauge', 'Resident set size of the worker process.', (x) => x.rss),
    {
      name: 'paddock_listen_queue_depth',
      type: 'gauge',
      help: 'Connections waiting in the kernel accept queue.',
      samples: s.listeners.map((l) => ({ labels: { listener: l.bind }, value: l.queueDepth })),
    },
    { name: 'paddock_workers', type: 'gauge', help: 'Live worker processes.', samples: [{ labels: {}, value: s.workers.filter((x) => x.state !== 'exited').length }] },
    { name: 'paddock_workers_target', type: 'gauge', help: 'Workers wanted.', samples: [{ labels: {}, value: s.targetWorkers }] },
    { name: 'paddock_generation', type: 'gauge', help: 'Current worker generation.', samples: [{ labels: {}, value: s.generation }] },
    { name: 'paddock_reloads_total', type: 'counter', help: 'Reloads done.', samples: [{ labels: {}, value: s.counters.reloads }] },
    { name: 'paddock_worker_timeouts_total', type: 'counter', help: 'Workers killed for silence.', samples: [{ labels: {}, value: s.counters.timeouts }] },
  ])
}

/**
 * `GET /healthz` for Kubernetes probes and load-balancer health checks: 200 while at least
 * one worker is ready to serve, 503 with a short reason otherwise. A reload keeps the old
 * generation ready, so it stays 200 throughout.
 */
export function health(s: ArbiterSnapshot): { status: 200 | 503; body: Record<string, unknown> } {
  const ready = s.workers.filter((w) => w.state === 'ready').length
  const counts = { ready, target: s.targetWorkers, generation: s.generation }
  if (s.state === 'stopping' || s.state === 'stopped') return { status: 503, body: { status: 'stopping', reason: 'the server is shutting down', ...counts } }
  if (s.state === 'errored') return { status: 503, body: { status: 'errored', reason: s.lastError ?? 'workers keep failing to boot', ...counts } }
  if (ready === 0) {
    const starting = s.state === 'starting' || s.workers.some((w) => w.state === 'spawning' || w.state === 'booting')
    return { status: 503, body: { status: starting ? 'booting' : 'no-workers', reason: starting ? 'no worker is ready yet' : 'no worker is running', ...counts } }
  }
  return { status: 200, body: { status: 'ok', ...counts } }
}

export interface MetricsServer {
  url: string
  close(): Promise<void>
}

export function parseHostPort(bind: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(bind.trim())
  if (!m) throw new Error(`expected HOST:PORT, got "${bind}"`)
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) }
}

export async function startMetricsServer(control: ControlServer, bind: string): Promise<MetricsServer> {
  const { host, port } = parseHostPort(bind)
  const server = http.createServer((req, res) => {
    const route = (req.url ?? '').split('?')[0]
    if ((req.method === 'GET' || req.method === 'HEAD') && route === '/healthz') {
      // the engine's own snapshot: current whether or not anyone is watching, and cheap
      const h = health(control.arbiter.snapshot())
      res.writeHead(h.status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify(h.body) + '\n')
      return
    }
    if (req.method !== 'GET' || route !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
      return
    }
    // sampled now: nothing samples while nobody watches (CPU % is then the average since the last scrape)
    control.sampledSnapshot().then(
      (snapshot) => {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
        res.end(prometheusText(snapshot))
      },
      (err) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const addr = server.address() as AddressInfo
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}/metrics`,
    close: () => new Promise((r) => server.close(() => r())),
  }
}

export interface StatsdOptions {
  host: string
  prefix?: string
  tags?: string
}

/** Gunicorn's statsd names: requests, request.duration, request.status.<code>, workers, backlog, log.*. */
export function startStatsd(control: ControlServer, opts: StatsdOptions): { close(): void } {
  const { host, port } = parseHostPort(opts.host)
  const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4')
  sock.unref()
  const prefix = opts.prefix ? (opts.prefix.endsWith('.') ? opts.prefix : `${opts.prefix}.`) : ''
  const tags = opts.tags ? `|#${opts.tags}` : ''
  const send = (name: string, value: number, type: 'c' | 'g' | 'ms', sampled = '') => {
    const buf = Buffer.from(`${prefix}${name}:${value}|${type}${sampled}${tags}`)
    sock.send(buf, port, host, () => {})
  }
  const LOG_NAMES: Record<string, string> = { critical: 'log.critical', error: 'log.error', warning: 'log.warning' }
  const off = control.arbiter.onEvent((e: ControlEvent) => {
    if (e.type === 'spans') {
      // One heartbeat's requests: all of them counted exactly; durations and status codes
      // from its spans, which are a sample under load, sent with statsd's sample rate so
      // the server scales them back up.
      const total = e.spans.length + (e.dropped ?? 0)
      if (total > 0) send('requests', total, 'c')
      const rate = total > 0 ? e.spans.length / total : 1
      const sampled = rate < 1 ? `|@${rate.toFixed(4)}` : ''
      for (const sp of e.spans) {
        send('request.duration', Math.round(sp.durationMs), 'ms', sampled)
        send(`request.status.${sp.status}`, 1, 'c', sampled)
      }
    } else if (e.type === 'log' && e.stream === 'error' && LOG_NAMES[e.level]) {
      send(LOG_NAMES[e.level]!, 1, 'c')
    }
  })
  // the backlog and worker figures come from the sampled snapshot: keep it sampled
  const release = control.hold()
  const timer = setInterval(() => {
    const s = control.snapshot()
    send('workers', s.workers.filter((w) => w.state !== 'exited').length, 'g')
    send('backlog', s.listeners.reduce((a, l) => a + (l.queueDepth ?? 0), 0), 'g')
  }, 1000)
  timer.unref()
  return {
    close: () => {
      off()
      release()
      clearInterval(timer)
      sock.close()
    },
  }
}
