// Baseline: Node's own cluster module serving the demo app with a plain http server.
// Usage: node node-cluster.mjs PORT WORKERS rr|none
import cluster from 'node:cluster'
import http from 'node:http'

const [port, workers, policy] = [Number(process.argv[2]), Number(process.argv[3] ?? 2), process.argv[4] ?? 'rr']
cluster.schedulingPolicy = policy === 'none' ? cluster.SCHED_NONE : cluster.SCHED_RR

if (cluster.isPrimary) {
  let ready = 0
  for (let i = 0; i < workers; i++) cluster.fork()
  cluster.on('listening', () => {
    if (++ready === workers) console.log(`Listening at: http://127.0.0.1:${port} (${process.pid})`)
  })
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers)) w.kill()
    process.exit(0)
  })
} else {
  const { default: app } = await import('../../resources/demo/app.mjs')
  http.createServer(app).listen(port, '127.0.0.1')
}
