// The paddock teaching demo app: a plain Node (req, res) listener with endpoints
// whose cost is I/O-bound, CPU-bound or blocking, so the worker classes can be
// compared under load. Run it with: npx paddock resources/demo/app.mjs
import { threadId } from 'node:worker_threads'
import { WebSocketServer } from 'ws'

const sleepCell = new Int32Array(new SharedArrayBuffer(4))
const MAX_MS = 120_000

function intParam(url, name, fallback) {
  const raw = url.searchParams.get(name)
  if (raw === null || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || n < 0) return fallback
  return Math.min(Math.floor(n), MAX_MS)
}

function send(res, status, body, type = 'text/plain; charset=utf-8') {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) })
  res.end(body)
}

// /cpu does a fixed amount of work, not "spin until the clock says N ms": when more threads
// than cores share the machine, a clock-bound spin gets a fraction of a core and "finishes"
// after less work, which would make threads look as if they created cores. The work per ms
// is measured once at load, keeping the fastest of a few short samples (the ones a busy
// machine did not interrupt).
function spin(iterations) {
  let x = 0
  for (let i = 0; i < iterations; i++) x += Math.sqrt(x + i)
  return x
}

const SAMPLE = 200_000
let iterationsPerMs = 0
for (let k = 0; k < 10; k++) {
  const t = performance.now()
  spin(SAMPLE)
  const dt = performance.now() - t
  if (dt > 0) iterationsPerMs = Math.max(iterationsPerMs, SAMPLE / dt)
}
iterationsPerMs ||= SAMPLE

function burnCpu(ms) {
  return spin(Math.round(ms * iterationsPerMs))
}

export default function demoApp(req, res) {
  const url = new URL(req.url ?? '/', 'http://demo.invalid')
  switch (url.pathname) {
    case '/':
      return send(res, 200, 'Hello from paddock\n')
    case '/io': {
      // Waits without blocking the event loop: a database or HTTP call stand-in.
      const ms = intParam(url, 'ms', 100)
      const timer = setTimeout(() => send(res, 200, `io ${ms}ms\n`), ms)
      res.on('close', () => clearTimeout(timer))
      return
    }
    case '/cpu': {
      const ms = intParam(url, 'ms', 10)
      // the result goes into the answer, so the work cannot be optimised away
      const x = burnCpu(ms)
      return send(res, 200, `cpu ${ms}ms${x < 0 ? ' ' : ''}\n`)
    }
    case '/block': {
      // Blocks this thread synchronously: the stand-in for a blocking driver call.
      const ms = intParam(url, 'ms', 100)
      Atomics.wait(sleepCell, 0, 0, ms)
      return send(res, 200, `block ${ms}ms\n`)
    }
    case '/echo': {
      const chunks = []
      req.on('data', (c) => chunks.push(c))
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        send(res, 200, JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }), 'application/json')
      })
      req.on('error', () => {})
      return
    }
    case '/stream': {
      const chunks = Math.max(1, intParam(url, 'chunks', 5))
      const ms = intParam(url, 'ms', 100)
      const size = intParam(url, 'size', 0)
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' })
      let sent = 0
      const payload = size > 0 ? Buffer.alloc(size, 'x') : null
      const tick = () => {
        if (res.destroyed) return
        sent++
        res.write(payload ?? `chunk ${sent}/${chunks}\n`)
        if (sent >= chunks) return res.end()
        if (ms > 0) setTimeout(tick, ms)
        else setImmediate(tick)
      }
      return tick()
    }
    case '/whoami':
      return send(
        res,
        200,
        JSON.stringify({
          pid: process.pid,
          threadId,
          workerClass: process.env.PADDOCK_WORKER_CLASS ?? null,
          generation: Number(process.env.PADDOCK_GENERATION ?? 0),
          slot: Number(process.env.PADDOCK_WORKER_ID ?? 0),
        }),
        'application/json',
      )
    case '/sse': {
      // Server-sent events: a tick every ?ms (default 1000), ?n ticks then the end.
      const n = Math.max(1, intParam(url, 'n', 10))
      const ms = intParam(url, 'ms', 1000)
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' })
      let sent = 0
      const timer = setInterval(() => {
        sent++
        res.write(`event: tick\ndata: {"n":${sent},"pid":${process.pid}}\n\n`)
        if (sent >= n) {
          clearInterval(timer)
          res.end()
        }
      }, ms)
      res.on('close', () => clearInterval(timer))
      return
    }
    case '/crash':
      // Throws inside the handler: the server answers 500 and the worker survives.
      throw new Error('demo: /crash was asked to throw')
    default:
      return send(res, 404, 'Not found\n')
  }
}

// WebSockets at /ws (async, gthread, native; sync refuses them unless --allow-sync-upgrades):
// every message is echoed, and a tick arrives every second.
const wss = new WebSocketServer({ noServer: true })
wss.on('connection', (ws) => {
  let n = 0
  const timer = setInterval(() => ws.send(JSON.stringify({ tick: ++n, pid: process.pid })), 1000)
  ws.on('message', (data) => ws.send(`echo: ${data}`))
  ws.on('close', () => clearInterval(timer))
})

export function upgrade(req, socket, head) {
  if (new URL(req.url ?? '/', 'http://demo.invalid').pathname !== '/ws') return socket.destroy()
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
}
