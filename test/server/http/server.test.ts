/**
 * What the HTTP edge keeps per kept-alive connection between two requests: nothing of the
 * answered response. A response kept until the next request on its connection outlives a
 * young-generation GC, is promoted, and under a hello-world load made V8 grow its new space
 * to the limit (bench/memory.mjs: 40 MiB of heap against Node's 16).
 */
import { afterEach, describe, expect, it } from 'vitest'
import http from 'node:http'
import net, { type AddressInfo } from 'node:net'
import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createHttpServer } from '../../../src/server/http/server.js'
import { WorkerCounters } from '../../../src/server/accounting/counters.js'

v8.setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

let server: http.Server | null = null
let listener: net.Server | null = null
let agent: http.Agent | null = null
afterEach(async () => {
  agent?.destroy()
  server?.closeAllConnections()
  await new Promise((r) => (listener ? listener.close(r) : r(undefined)))
  server?.close()
  server = listener = agent = null
})

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: agent! }, (res) => {
        let body = ''
        res.on('data', (d) => (body += d))
        res.on('end', () => resolve(body))
      })
      .on('error', reject)
  })
}

describe('the HTTP edge', () => {
  it('lets an answered response be collected while its connection stays open', async () => {
    const responses: WeakRef<http.ServerResponse>[] = []
    const counters = new WorkerCounters(process.pid, 1)
    server = createHttpServer({
      settings: {},
      counters,
      keepAlive: true,
      isDraining: () => false,
      serve: {
        app: (_req, res) => {
          responses.push(new WeakRef(res))
          res.end('hello')
        },
      },
    })
    let connections = 0
    server.on('connection', () => connections++)
    // as in a worker: a listener of its own hands each connection to the server
    listener = net.createServer((socket) => server!.emit('connection', socket))
    await new Promise<void>((r) => listener!.listen(0, '127.0.0.1', r))
    const { port } = listener.address() as AddressInfo
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    expect(await get(port)).toBe('hello')
    // the response's 'close' comes a tick after its end
    await new Promise((r) => setTimeout(r, 50))
    for (let i = 0; i < 3; i++) {
      gc()
      await new Promise((r) => setImmediate(r))
    }
    expect(responses[0]!.deref()).toBeUndefined()
    // the same connection still serves, and counted both requests
    expect(await get(port)).toBe('hello')
    await new Promise((r) => setTimeout(r, 50))
    expect(counters.requests).toBe(2)
    expect(connections).toBe(1)
  })
})
