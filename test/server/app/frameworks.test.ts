import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import http from 'node:http'
import { join } from 'node:path'
import { FIXTURES, get, startPaddock, stopAll, waitForWorkers, type Paddock } from '../../helpers/proc.js'

/** Chunks of a streamed response as they arrive, to prove it was not buffered into one. */
function chunksOf(port: number, path: string): Promise<{ status: number; chunks: string[] }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: string[] = []
      res.setEncoding('utf8')
      res.on('data', (d: string) => chunks.push(d))
      res.on('end', () => resolve({ status: res.statusCode!, chunks }))
    }).on('error', reject)
  })
}

const frameworks = ['express', 'koa', 'fastify', 'hono']
const classes = ['sync', 'gthread', 'async']

for (const framework of frameworks) {
  for (const cls of classes) {
    describe(`${framework} under ${cls}`, () => {
      let p: Paddock
      beforeAll(async () => {
        p = await startPaddock(['-w', '1', '-k', cls, ...(cls === 'gthread' ? ['--threads', '2'] : []), join(FIXTURES, `apps/${framework}-app.mjs`)], { env: { NODE_ENV: 'test' } })
        await waitForWorkers(p, 1)
      })
      afterAll(stopAll)

      it('routes, answers JSON, streams, reads a body, and survives a route that throws', async () => {
        const [pid] = await waitForWorkers(p, 1)
        const user = await get(p.port, '/users/42')
        expect(user.status).toBe(200)
        expect(user.headers['content-type']).toMatch(/application\/json/)
        expect(JSON.parse(user.body)).toEqual({ id: 42, framework })

        const streamed = await chunksOf(p.port, '/stream')
        expect(streamed.status).toBe(200)
        expect(streamed.chunks.join('')).toBe('part 1\npart 2\npart 3\n')

        const echo = await get(p.port, '/echo', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ hello: 'paddock', n: [1, 2] }) })
        expect(echo.status).toBe(200)
        expect(JSON.parse(echo.body)).toEqual({ got: { hello: 'paddock', n: [1, 2] } })

        const boom = await get(p.port, '/boom')
        expect(boom.status).toBe(500)
        const after = await get(p.port, '/users/7')
        expect(JSON.parse(after.body).id).toBe(7)
        const [still] = await waitForWorkers(p, 1)
        expect(still).toBe(pid)
      })
    })
  }
}
