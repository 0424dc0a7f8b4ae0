/**
 * startHostedServer: the one way a dashboard starts the engine it hosts, used by
 * `paddock dashboard` and by the desktop app (src/main/hosting.ts, covered by
 * electron-core.test.ts). Real workers on 127.0.0.1 ephemeral ports.
 */
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startHostedServer, type HostedServer } from '../../../dist/server/host/start.js'
import { PROTOCOL_VERSION, type ServerFrame } from '../../../src/shared/protocol.js'
import { alive, childPids, DEMO, get, startPaddock, stopAll } from '../../helpers/proc.js'

let hosted: HostedServer | null = null
afterEach(async () => {
  const pids = hosted?.host.workerPids() ?? []
  await hosted?.close('quick').catch(() => {})
  hosted = null
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL')
  await stopAll()
})

/** The welcome frame of a dashboard's WebSocket, with the token from its URL. */
function welcome(url: string): Promise<Extract<ServerFrame, { type: 'welcome' }>> {
  const { port, hash } = new URL(url)
  const token = new URLSearchParams(hash.slice(1)).get('token') ?? ''
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { origin: `http://127.0.0.1:${port}` })
    ws.on('error', reject)
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, client: 'test', token })))
    ws.on('message', (d) => {
      const frame = JSON.parse(String(d)) as ServerFrame
      if (frame.type === 'welcome') {
        ws.close()
        resolve(frame)
      } else if (frame.type === 'error') reject(new Error(frame.error.message))
    })
  })
}

describe('a hosted server', () => {
  it('serves the demo app when no app is given, and close stops its workers', async () => {
    hosted = await startHostedServer({ argv: ['-b', '127.0.0.1:0', '-w', '1', '--no-control-socket'], demoApp: DEMO })
    const snap = hosted.host.snapshot()
    expect(snap.app).toBe(DEMO)
    expect((await get(snap.listeners[0]!.port!, '/whoami')).status).toBe(200)
    expect(hosted.plane.socketPath).toBeNull()
    expect(hosted.plane.dashboardUrl).toBeNull()
    const pids = hosted.host.workerPids()
    expect(pids).toHaveLength(1)
    await hosted.close('graceful')
    expect(hosted.host.snapshot().state).toBe('stopped')
    expect(pids.filter(alive)).toEqual([])
  })

  it('`paddock dashboard` hosts the demo app behind its browser dashboard and stops it on SIGINT', async () => {
    const ready = /paddock dashboard: (http:\/\/\S+)/
    const dash = await startPaddock(['dashboard', '--port', '0', '-b', '127.0.0.1:0', '-w', '1', '--no-control-socket'], { bind: false, ready })
    const [, url] = await dash.waitFor(ready)
    const w = await welcome(url!)
    expect(w.snapshot.app).toMatch(/resources\/demo\/app\.mjs$/)
    expect(w.snapshot.pid).toBe(dash.pid)
    const workers = childPids(dash.pid)
    expect(workers.length).toBeGreaterThanOrEqual(1)
    dash.child.kill('SIGINT')
    expect(await dash.exited).toEqual({ code: 0, signal: null })
    expect(workers.filter(alive)).toEqual([])
  })
})
