/**
 * What Electron main does, without Electron: host the engine (hosting.ts) and route the
 * window's frames to the current target, hosted or attached over a control socket (targets.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startHosting, type Hosting } from '../../src/main/hosting.js'
import { closeDecision, TargetRegistry } from '../../src/main/targets.js'
import { unixRelay } from '../../src/server/control/relay.js'
import { PROTOCOL_VERSION, type ServerFrame } from '../../src/shared/protocol.js'
import type { TargetInfo } from '../../src/shared/bridge.js'
import { DEMO, ROOT, get, startPaddock, stopAll, waitForWorkers } from '../helpers/proc.js'

let hosting: Hosting
const frames: ServerFrame[] = []
const changes: TargetInfo[] = []
let reg: TargetRegistry

async function next<T extends ServerFrame['type']>(type: T, after = 0): Promise<Extract<ServerFrame, { type: T }>> {
  for (let i = 0; i < 200; i++) {
    const f = frames.slice(after).find((x) => x.type === type)
    if (f) return f as Extract<ServerFrame, { type: T }>
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`no ${type} frame`)
}

describe('desktop main without Electron', () => {
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-main-'))
    hosting = await startHosting({ engineDir: join(ROOT, 'dist/server'), demoApp: DEMO, argv: ['-b', '127.0.0.1:0', '-w', '1', '--control-socket', join(dir, 'hosted.sock')] })
    reg = new TargetRegistry((f) => frames.push(f), (t) => changes.push(t), unixRelay)
  })
  afterAll(async () => {
    reg?.close()
    await hosting?.close('quick')
    await stopAll()
  })

  it('hosts the demo app by default and bridges hello, snapshots and commands', async () => {
    const port = hosting.host.snapshot().listeners[0]!.port!
    expect((await get(port, '/whoami')).status).toBe(200)
    expect(hosting.plane.socketPath).toMatch(/hosted\.sock$/)
    const hosted = reg.add({ label: 'hosted', kind: 'hosted' }, hosting.plane.control)
    reg.select(hosted.id)
    expect(changes.at(-1)?.id).toBe(hosted.id)
    reg.receive({ type: 'hello', protocol: PROTOCOL_VERSION, client: 'test' })
    const welcome = await next('welcome')
    expect(welcome.snapshot.pid).toBe(process.pid)
    const mark = frames.length
    reg.receive({ type: 'command', id: 7, command: { cmd: 'workers.add', count: 1 } })
    const result = await next('result', mark)
    expect(result).toEqual({ type: 'result', id: 7, result: { ok: true, data: { target: 2 }, message: 'target workers: 2' } })
  })

  it('attaches to an arbiter started from the CLI, and only the current target gets frames', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-cli-'))
    const sock = join(dir, 'cli.sock')
    const cli = await startPaddock(['-b', '127.0.0.1:0', '-w', '1', '--control-socket', sock, DEMO], { bind: false })
    await waitForWorkers(cli, 1)
    // the control socket opens once the first worker is ready
    for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50))
    const info = reg.attach(sock)
    expect(info).toMatchObject({ kind: 'attached', socketPath: sock })
    const mark = frames.length
    reg.receive({ type: 'hello', protocol: PROTOCOL_VERSION, client: 'test' })
    const welcome = await next('welcome', mark)
    expect(welcome.snapshot.pid).toBe(cli.pid)
    // snapshots keep coming at 4 Hz, all from the attached arbiter, none from the hosted one
    await new Promise((r) => setTimeout(r, 800))
    const pids = new Set(frames.slice(mark).flatMap((f) => (f.type === 'snapshot' || f.type === 'welcome' ? [f.snapshot.pid] : [])))
    expect([...pids]).toEqual([cli.pid])
    expect(reg.list().map((t) => t.kind)).toEqual(['hosted', 'attached'])
    // attaching the same socket again selects the known target
    expect(reg.attach(sock).id).toBe(info.id)
    expect(() => reg.attach(join(dir, 'missing.sock'))).toThrow(/no control socket at/)
    expect(() => reg.select('nope')).toThrow(/no such target/)
  })

  it('closing the window asks only when requests are in flight', () => {
    expect(closeDecision(0)).toBe('stop')
    expect(closeDecision(3)).toBe('ask')
  })
})
