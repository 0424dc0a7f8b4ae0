import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import net from 'node:net'
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FIXTURES, get, startPaddock, stopAll, waitForWorkers, type Paddock } from '../helpers/proc.js'

// The corpus: test/fixtures/malformed/<case>.http (raw bytes) and <case>.expect (accepted
// statuses; `body` after them marks a valid head with a bad body: the app has seen the head
// when the body turns out to be malformed, as with any streaming server).
const dir = join(FIXTURES, 'malformed')
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.http'))
  .map((f) => {
    const [statuses, level] = readFileSync(join(dir, f.replace(/\.http$/, '.expect')), 'utf8').trim().split(' ')
    return { name: f.slice(0, -5), raw: readFileSync(join(dir, f)), expect: statuses, bodyLevel: level === 'body' }
  })

function sendRaw(port: number, raw: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(raw))
    let answer = ''
    s.on('data', (d) => (answer += d))
    s.on('error', () => resolve(answer))
    s.on('close', () => resolve(answer))
    s.setTimeout(5000, () => s.destroy())
  })
}

for (const cls of ['sync', 'async', 'gthread']) {
  describe(`malformed requests against ${cls}`, () => {
    let p: Paddock
    beforeAll(async () => {
      // every thread's copy of the app writes to one file, so /seen covers them all
      const seenFile = join(mkdtempSync(join(tmpdir(), 'paddock-seen-')), 'seen')
      writeFileSync(seenFile, '')
      p = await startPaddock(['-w', '1', '-k', cls, ...(cls === 'gthread' ? ['--threads', '2'] : []), join(FIXTURES, 'apps/counting.mjs')], { env: { SEEN_FILE: seenFile } })
      await waitForWorkers(p, 1)
    })
    afterAll(stopAll)

    it('answers each case with a 4xx and Connection: close, never reaching the app, and keeps serving', async () => {
      const [pid] = await waitForWorkers(p, 1)
      for (const c of cases) {
        const answer = await sendRaw(p.port, c.raw)
        const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]
        expect(status, `${c.name}: got ${JSON.stringify(answer.slice(0, 80))}`).toMatch(new RegExp(`^(${c.expect})$`))
        expect(answer.toLowerCase(), c.name).toContain('connection: close')
        // one HTTP response only: a second, smuggled request never ran
        expect(answer.match(/HTTP\/1\.1 \d{3}/g), c.name).toHaveLength(1)
      }
      const seen = JSON.parse((await get(p.port, '/seen')).body) as string[]
      // Only a valid head whose body later proved malformed may have reached the app: a
      // streaming server hands the head over first (sync, async); gthread may not, when the
      // bad body arrives before a thread took the head. Nothing else ever reaches the app.
      const bodyLevel = cases.filter((c) => c.bodyLevel).map(() => 'POST /a')
      if (cls === 'gthread') expect(bodyLevel.slice(0, seen.length)).toEqual(seen)
      else expect(seen).toEqual(bodyLevel)
      const [still] = await waitForWorkers(p, 1)
      expect(still).toBe(pid)
    })
  })
}
