/**
 * The control plane's checks on commands, against an in-memory arbiter: a malformed command
 * gets PADDOCK_ERR_BAD_COMMAND with a message that names what is accepted.
 */
import { describe, expect, it } from 'vitest'
import { runCommand } from '../../../src/server/control/commands.js'
import { WORKER_CLASS_INPUTS, type WorkerClassInput } from '../../../src/shared/worker-classes.js'
import { fakeArbiter } from './fake-arbiter.js'

function arbiterRecordingClasses() {
  const arbiter = fakeArbiter()
  const asked: WorkerClassInput[] = []
  arbiter.setWorkerClass = async (workerClass) => {
    asked.push(workerClass)
    return { ok: true, generation: 2 }
  }
  const run = (command: unknown) => runCommand(arbiter, command, () => arbiter.snapshot())
  return { run, asked }
}

describe('control commands', () => {
  it('class.set takes every class and alias, and hands the name on as typed', async () => {
    const { run, asked } = arbiterRecordingClasses()
    for (const workerClass of WORKER_CLASS_INPUTS) expect(await run({ cmd: 'class.set', workerClass })).toMatchObject({ ok: true })
    expect(asked).toEqual(['sync', 'gthread', 'async', 'native', 'gevent', 'eventlet'])
  })

  it('class.set refuses another name and lists the accepted ones', async () => {
    const { run, asked } = arbiterRecordingClasses()
    expect(await run({ cmd: 'class.set', workerClass: 'threads' })).toEqual({
      ok: false,
      error: { code: 'PADDOCK_ERR_BAD_COMMAND', message: 'workerClass must be one of sync, gthread, async, native, gevent, eventlet' },
    })
    expect(asked).toEqual([])
  })

  it('counts must be positive integers, and scale needs one', async () => {
    const { run } = arbiterRecordingClasses()
    expect(await run({ cmd: 'workers.add', count: 0 })).toMatchObject({ ok: false, error: { code: 'PADDOCK_ERR_BAD_COMMAND', message: 'count must be a positive integer, got 0' } })
    expect(await run({ cmd: 'workers.scale' })).toMatchObject({ ok: false, error: { code: 'PADDOCK_ERR_BAD_COMMAND' } })
    expect(await run({ cmd: 'class.set', workerClass: 'gthread', threads: 1.5 })).toMatchObject({ ok: false, error: { message: 'threads must be a positive integer, got 1.5' } })
    expect(await run({ cmd: 'workers.add' })).toMatchObject({ ok: true, data: { target: 3 } })
  })
})
