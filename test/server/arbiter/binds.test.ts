import { afterEach, describe, expect, it } from 'vitest'
import { readListenQueues } from '../../../dist/server/control/proc-net.js'
import { DEMO, alive, childPids, get, sleep, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'

afterEach(stopAll)

describe('binding the listeners', () => {
  it('the master binds without a binder child and never accepts: with no worker, a connection waits in the kernel backlog for the next worker', async () => {
    const p = await startPaddock(['-w', '1', '-k', 'sync', DEMO])
    const [first] = await waitForWorkers(p, 1)
    // no binder child: the master's only child is its worker
    expect(childPids(p.pid)).toEqual([first])
    process.kill(p.pid, 'SIGWINCH')
    await waitForWorkers(p, 0)
    const pending = get(p.port, '/', { timeoutMs: 20_000 })
    // the connection sits in the accept queue: nobody took it (the master would have)
    let queued = 0
    for (const deadline = Date.now() + 5000; queued < 1 && Date.now() < deadline; await sleep(100)) queued = (await readListenQueues()).get(p.port) ?? 0
    expect(queued).toBe(1)
    await sleep(500)
    expect((await readListenQueues()).get(p.port)).toBe(1)
    process.kill(p.pid, 'SIGTTIN')
    expect((await pending).status).toBe(200)
    expect(alive(p.pid)).toBe(true)
  })

  it('PADDOCK_BIND_IN_CHILD=1 binds through the binder child, as on a Node without the internal', async () => {
    const p = await startPaddock(['-w', '1', DEMO], { env: { PADDOCK_BIND_IN_CHILD: '1' } })
    await waitForWorkers(p, 1)
    expect((await get(p.port, '/')).status).toBe(200)
  })
})
