// Plain node:http server around the demo app that counts the requests it
// answered, so load-generator tests compare against the server's own count.
// Sends {port} once listening and {count} when asked over IPC.
import http from 'node:http'
import demoApp from '../../../resources/demo/app.mjs'

let count = 0
const server = http.createServer((req, res) => {
  res.on('finish', () => count++)
  demoApp(req, res)
})
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
process.on('message', (m) => {
  if (m === 'count') process.send({ count })
})
process.on('disconnect', () => process.exit(0))
