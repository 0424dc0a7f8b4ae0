// Floor for the sync class: Node's own http server, one process, the demo app, and
// `Connection: close` on every response (a connection per request, as sync serves them).
// Usage: node node-close.mjs PORT
import http from 'node:http'

const port = Number(process.argv[2])
const { default: app } = await import('../../resources/demo/app.mjs')
http
  .createServer({ keepAliveTimeout: 0 }, (req, res) => {
    res.shouldKeepAlive = false
    app(req, res)
  })
  .listen(port, '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))
