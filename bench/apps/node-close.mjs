// Floor for the sync class: Node's own http server with the demo app, answering
// `Connection: close` every time (a connection per request, as sync serves them).
// Usage: node node-close.mjs PORT [WORKERS]
//   1 worker (the default): one process, no cluster (bench/memory.mjs reads its RSS);
//   more: Node's cluster with shared accept (SCHED_NONE: each worker accepts from the
//   listening socket, as paddock's do; round-robin would add the primary's hand-over of
//   every connection, one per request here).
import cluster from 'node:cluster'
import http from 'node:http'

const port = Number(process.argv[2])
const workers = Number(process.argv[3] ?? 1)

if (workers > 1 && cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_NONE
  for (let i = 0; i < workers; i++) cluster.fork()
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers)) w.kill()
    process.exit(0)
  })
} else {
  const { default: app } = await import('../../resources/demo/app.mjs')
  http
    .createServer({ keepAliveTimeout: 0 }, (req, res) => {
      res.shouldKeepAlive = false
      app(req, res)
    })
    .listen(port, '127.0.0.1')
  if (workers === 1) process.on('SIGTERM', () => process.exit(0))
}
