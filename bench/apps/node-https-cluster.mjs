// Baseline for TLS: Node's own https server under the cluster module (round-robin), serving
// the demo app. Usage: node node-https-cluster.mjs PORT WORKERS CERT KEY
import cluster from 'node:cluster'
import https from 'node:https'
import { readFileSync } from 'node:fs'

const [port, workers, cert, key] = [Number(process.argv[2]), Number(process.argv[3] ?? 2), process.argv[4], process.argv[5]]
cluster.schedulingPolicy = cluster.SCHED_RR

if (cluster.isPrimary) {
  let ready = 0
  for (let i = 0; i < workers; i++) cluster.fork()
  cluster.on('listening', () => {
    if (++ready === workers) console.log(`Listening at: https://127.0.0.1:${port} (${process.pid})`)
  })
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers)) w.kill()
    process.exit(0)
  })
} else {
  const { default: app } = await import('../../resources/demo/app.mjs')
  // the same TLS settings paddock uses by default: TLS 1.2 minimum, ALPN http/1.1
  https.createServer({ cert: readFileSync(cert), key: readFileSync(key), minVersion: 'TLSv1.2', ALPNProtocols: ['http/1.1'] }, app).listen(port, '127.0.0.1')
}
