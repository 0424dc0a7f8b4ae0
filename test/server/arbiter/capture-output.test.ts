/**
 * --capture-output: a worker's console.log / console.error (and its gthread threads') become
 * error-log lines with the worker's pid. Real processes; without the setting the same output
 * reaches the terminal raw, not as log lines, so the assertions fail.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { FIXTURES, get, sleep, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'
import { captureLines } from '../../../src/server/arbiter/capture.js'
import { PassThrough } from 'node:stream'

afterEach(stopAll)

describe('--capture-output', () => {
  for (const [workerClass, extra] of [['sync', []], ['gthread', ['--threads', '2']]] as const) {
    it(`${workerClass}: the app's stdout and stderr land in the error log, a line each, with the worker's pid`, async () => {
      const p = await startPaddock(['-w', '1', '-k', workerClass, ...extra, '--capture-output', join(FIXTURES, 'apps/talking.mjs')])
      const [worker] = await waitForWorkers(p, 1)
      expect((await get(p.port, '/a')).status).toBe(200)
      await p.waitFor(new RegExp(`\\[${worker}\\] \\[INFO\\] hello from ${worker} thread \\d+ for /a`))
      await p.waitFor(new RegExp(`\\[${worker}\\] \\[ERROR\\] trouble in ${worker}`))
      await p.waitFor(new RegExp(`\\[${worker}\\] \\[ERROR\\] second line`))
      if (workerClass === 'gthread') expect(p.output()).toMatch(new RegExp(`hello from ${worker} thread [1-9]\\d* for /a`))
      // nothing raw: every captured line went through the log
      expect(p.output()).not.toMatch(/^hello from/m)
    })
  }

  it('as JSON with --log-format json', async () => {
    const p = await startPaddock(['-w', '1', '--capture-output', '--log-format', 'json', join(FIXTURES, 'apps/talking.mjs')])
    const [worker] = await waitForWorkers(p, 1)
    await get(p.port, '/j')
    await p.waitFor(/hello from .* for \/j/)
    await sleep(200)
    const lines = p.output().trimEnd().split('\n').map((l) => JSON.parse(l))
    expect(lines).toContainEqual(expect.objectContaining({ pid: worker, level: 'info', message: expect.stringMatching(/^hello from \d+ thread 0 for \/j$/) }))
  })

  it('splits chunks into lines, joins a line split across chunks, and keeps a last line without newline', () => {
    const got: string[] = []
    const s = new PassThrough()
    captureLines(s, (l) => got.push(l))
    s.write('one\ntw')
    s.write(Buffer.from('o é\r\nthr'))
    s.end('ee')
    return new Promise<void>((resolve) =>
      s.on('end', () => {
        expect(got).toEqual(['one', 'two é', 'three'])
        resolve()
      }),
    )
  })
})
