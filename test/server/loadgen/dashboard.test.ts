/**
 * A bad target sent from the dashboard (the `load.start` command through the real
 * ControlServer and Host) is refused at once with the reason; it used to run and report
 * "other 25" with no cause.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO } from '../../helpers/proc.js'
import { startHosted, type Hosted } from '../../helpers/hosted.js'

let hosted: Hosted

describe('load.start from the dashboard', () => {
  beforeAll(async () => {
    hosted = await startHosted(['-w', '1', DEMO])
  })
  afterAll(() => hosted?.stop())

  it.each([
    ['nope', /"nope" is neither a URL nor a path: write a path with a leading slash \(\/nope\)/],
    ['localhost:1/x', /no scheme/],
    ['http://127.0.0.1:99999/', /not a valid URL/],
  ])('%s is refused with the reason and nothing runs', async (url, why) => {
    const r = await hosted.run({ cmd: 'load.start', options: { url, connections: 2, duration: 1, keepAlive: true } })
    expect(r).toMatchObject({ ok: false, error: { code: 'PADDOCK_ERR_INVALID_VALUE', message: expect.stringMatching(why) } })
    expect(hosted.host.snapshot().load).toBeNull()
    expect(hosted.events.filter((e) => e.type === 'load.progress' || e.type === 'load.done')).toEqual([])
    // the refusal left nothing behind: the next (good) run may start
    expect((await hosted.run({ cmd: 'load.stop' })).ok).toBe(false)
  })
})
