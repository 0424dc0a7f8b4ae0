/**
 * Sampled request spans, as the timeline draws them: the time a request waited inside the
 * worker (gthread: for a free thread) shows as the gap between acceptedAt and start, and a
 * request on a kept-alive connection is not shown as having waited since the connection
 * was opened.
 */
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RequestSpan } from '../../../src/shared/protocol.js'
import { startHosted, type Hosted } from '../../helpers/hosted.js'
import { DEMO, get, sleep } from '../../helpers/proc.js'

let hosted: Hosted
const spans = (): RequestSpan[] => hosted.events.flatMap((e) => (e.type === 'spans' ? e.spans : []))

describe('request spans', () => {
  beforeAll(async () => {
    hosted = await startHosted(['-w', '1', '-k', 'gthread', '--threads', '1', DEMO])
  })
  afterAll(() => hosted?.stop())

  const port = () => hosted.port()
  const waited = (s: RequestSpan) => s.start - (s.acceptedAt ?? s.start)
  const find = async (path: string) => {
    for (let i = 0; i < 40; i++) {
      const s = spans().find((x) => x.path === path)
      if (s) return s
      await sleep(100)
    }
    throw new Error(`no span for ${path}`)
  }

  it('a request on a kept-alive connection has not waited since the connection opened', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    await get(port(), '/io?ms=10&n=1', { agent })
    await sleep(300)
    await get(port(), '/io?ms=10&n=2', { agent })
    agent.destroy()
    // the connection is 300 ms old when the second request arrives; the request waited ~0
    expect(waited(await find('/io?ms=10&n=2'))).toBeLessThan(150)
  })

  it('a request that waits for the only thread shows that wait', async () => {
    await Promise.all([get(port(), '/block?ms=300&n=a'), (async () => (await sleep(50), get(port(), '/block?ms=10&n=b')))()])
    // b arrived while a held the thread: it waited about 250 ms before it started
    expect(waited(await find('/block?ms=10&n=b'))).toBeGreaterThan(150)
  })
})
