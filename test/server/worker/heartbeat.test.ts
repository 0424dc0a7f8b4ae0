import { existsSync } from 'node:fs'
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { encodeFrame, FrameDecoder } from '../../../dist/server/control/framing.js'
import { PROTOCOL_VERSION, silentAfterMs, type ArbiterSnapshot } from '../../../dist/shared/protocol.js'
import { DEMO, controlSocketPath, get, sleep, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'

const sockets: net.Socket[] = []
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  await stopAll()
})

type Seen = { at: number; worker: ArbiterSnapshot['workers'][number] }

/** Every pushed snapshot's one ready worker. */
function watch(sock: string): Seen[] {
  const seen: Seen[] = []
  const s = net.connect(sock, () => s.write(encodeFrame({ type: 'hello', protocol: PROTOCOL_VERSION, client: 'heartbeat-test' })))
  sockets.push(s)
  const dec = new FrameDecoder()
  s.on('data', (c) => {
    for (const f of dec.push(c) as { type: string; snapshot?: ArbiterSnapshot }[]) {
      const w = f.snapshot?.workers.find((x) => x.state === 'ready')
      if (w) seen.push({ at: Date.now(), worker: w })
    }
  })
  s.on('error', () => {})
  return seen
}

describe('worker heartbeat', () => {
  it('an idle worker beats slowly (a quarter of --timeout) and says so; a request brings the 250 ms beat back; it is never shown silent while idle', async () => {
    const sock = controlSocketPath()
    const p = await startPaddock(['-b', '127.0.0.1:0', '-w', '1', '-t', '8', '-k', 'async', '--control-socket', sock, DEMO], { bind: false })
    await waitForWorkers(p, 1)
    for (const deadline = Date.now() + 10_000; !existsSync(sock) && Date.now() < deadline; ) await sleep(50)
    const seen = watch(sock)
    await sleep(6000)
    const idle = seen.filter((x) => x.at > seen[0]!.at + 2000)
    expect(idle.length).toBeGreaterThan(10)
    // 8 s / 4: the announced period, and far fewer beats in 4 s than 4 Hz's 16 (wide: on a
    // loaded machine a descheduled loop can look busy and bring a few fast beats back)
    expect(idle.some((x) => x.worker.heartbeatEveryMs === 2000)).toBe(true)
    expect(new Set(idle.map((x) => x.worker.lastHeartbeat)).size).toBeLessThanOrEqual(8)
    // the silent threshold follows the announced period: an idle worker never reads silent
    for (const x of idle) expect(x.at - x.worker.lastHeartbeat!).toBeLessThan(silentAfterMs(x.worker.heartbeatEveryMs))

    const from = Date.now()
    const pending = get(p.port, '/io?ms=1500')
    await sleep(1000)
    const busy = seen.filter((x) => x.at > from + 500)
    expect(busy.some((x) => x.worker.heartbeatEveryMs === 250 && x.worker.inFlight === 1)).toBe(true)
    expect((await pending).status).toBe(200)
  })
})
