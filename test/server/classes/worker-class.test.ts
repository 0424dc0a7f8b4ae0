/**
 * The worker-class seam as the master sees it: a worker of each class, forked here as the
 * arbiter forks one (without listeners), says in its 'ready' what its class lets the master
 * ask of it, and a drain's reason and its exit's reason reach the master's log.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { resolveConfig } from '../../../dist/server/config/resolve.js'
import type { WorkerBootInfo, WorkerMessage } from '../../../src/server/worker/ipc.js'
import type { WorkerClassName } from '../../../src/shared/protocol.js'
import { DEMO, FIXTURES, ROOT } from '../../helpers/proc.js'

const WORKER = join(ROOT, 'dist/server/worker/main.js')
const children = new Set<ChildProcess>()

afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  children.clear()
})

async function startWorker(workerClass: WorkerClassName, app: string, extra: string[] = []) {
  const config = await resolveConfig(['-k', workerClass, ...extra, '--no-control-socket', app])
  const info: WorkerBootInfo = { id: 1, slot: 0, generation: 1, workerClass, listeners: [], configFile: null, settings: { ...config.settings, app: config.app }, heartbeatMs: 1000, masterPid: process.pid }
  const child = fork(WORKER, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { ...process.env, PADDOCK_WORKER: JSON.stringify(info) } })
  children.add(child)
  const messages: WorkerMessage[] = []
  child.on('message', (m: WorkerMessage) => messages.push(m))
  const next = (test: (m: WorkerMessage) => boolean, timeoutMs = 20_000) =>
    new Promise<WorkerMessage>((resolve, reject) => {
      const found = messages.find(test)
      if (found) return resolve(found)
      const t = setTimeout(() => reject(new Error(`no such message from the ${workerClass} worker; got ${JSON.stringify(messages.map((m) => m.t))}`)), timeoutMs)
      const on = (m: WorkerMessage) => {
        if (!test(m)) return
        clearTimeout(t)
        child.off('message', on)
        resolve(m)
      }
      child.on('message', on)
    })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, next, exited }
}

describe('a worker tells the master its class traits', () => {
  const cases: [WorkerClassName, string, string[], boolean, number][] = [
    // sync keeps nothing open to give back, and holds one connection
    ['sync', DEMO, ['--worker-connections', '50'], false, 1],
    ['async', DEMO, ['--worker-connections', '50'], true, 50],
    ['gthread', DEMO, ['--threads', '2', '--worker-connections', '50'], true, 50],
    // the app's own server writes native's responses: paddock cannot close one to give it back
    ['native', join(FIXTURES, 'apps/native-ws.mjs'), ['--worker-connections', '50'], false, 50],
  ]
  for (const [cls, app, extra, sheds, cap] of cases) {
    it(`a ${cls} worker's ready says shedsConnections: ${sheds}, connectionCap: ${cap}`, async () => {
      const w = await startWorker(cls, app, extra)
      const ready = await w.next((m) => m.t === 'ready')
      expect(ready).toEqual({ t: 'ready', traits: { shedsConnections: sheds, connectionCap: cap } })
    })
  }
})

describe('draining', () => {
  it('the drain reason and the exit reason reach the master as debug log lines', async () => {
    const w = await startWorker('async', DEMO)
    await w.next((m) => m.t === 'ready')
    w.child.send({ t: 'drain', reason: 'TTOU: fewer workers', gracefulTimeoutMs: 5000 })
    const draining = await w.next((m) => m.t === 'log' && m.message.startsWith('draining'))
    expect(draining).toMatchObject({ level: 'debug', message: expect.stringContaining('TTOU: fewer workers') })
    const exiting = await w.next((m) => m.t === 'log' && m.message.startsWith('exiting'))
    expect(exiting).toMatchObject({ level: 'debug', message: 'exiting with code 0: drained' })
    await w.next((m) => m.t === 'drained')
    expect(await w.exited).toBe(0)
  })
})
