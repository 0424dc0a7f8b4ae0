/**
 * A bad target sent from the dashboard (the `load.start` command through the real
 * ControlServer and Host) is refused at once with the reason; it used to run and report
 * "other 25" with no cause.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Host } from '../../../dist/server/host/host.js'
import { ControlServer } from '../../../dist/server/control/control-server.js'
import { resolveConfig } from '../../../dist/server/config/resolve.js'
import type { ControlEvent } from '../../../src/shared/protocol.js'
import { DEMO } from '../../helpers/proc.js'

let host: InstanceType<typeof Host>
let control: InstanceType<typeof ControlServer>
const events: ControlEvent[] = []

describe('load.start from the dashboard', () => {
  beforeAll(async () => {
    host = new Host(await resolveConfig(['-b', '127.0.0.1:0', '-w', '1', '--no-control-socket', DEMO]))
    host.onEvent((e) => events.push(e))
    await host.start()
    control = new ControlServer(host)
  })
  afterAll(async () => {
    control?.close()
    await Promise.race([host?.stop('quick'), new Promise((r) => setTimeout(r, 5000))])
    for (const pid of host?.workerPids() ?? []) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
  })

  it.each([
    ['nope', /"nope" is neither a URL nor a path: write a path with a leading slash \(\/nope\)/],
    ['localhost:1/x', /no scheme/],
    ['http://127.0.0.1:99999/', /not a valid URL/],
  ])('%s is refused with the reason and nothing runs', async (url, why) => {
    const r = await control.execute({ cmd: 'load.start', options: { url, connections: 2, duration: 1, keepAlive: true } })
    expect(r).toMatchObject({ ok: false, error: { code: 'PADDOCK_ERR_INVALID_VALUE', message: expect.stringMatching(why) } })
    expect(host.snapshot().load).toBeNull()
    expect(events.filter((e) => e.type === 'load.progress' || e.type === 'load.done')).toEqual([])
    // the refusal left nothing behind: the next (good) run may start
    expect((await control.execute({ cmd: 'load.stop' })).ok).toBe(false)
  })
})
