import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import net from 'node:net'
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FIXTURES, get, startPaddock, stopAll, waitForWorkers, type Paddock } from '../helpers/proc.js'

// The corpus: test/fixtures/malformed/<case>.http (raw bytes) and <case>.expect (accepted
// statuses, then what reached the app:
//   (nothing)  nothing did;
//   body       a valid head with a bad body: the app has seen the head when the body turns
//              out to be malformed, as with any streaming server;
//   served     a complete, valid request followed by bytes the parser rejects: the app
//              answers that request (its own answer, the only one), then the connection closes).
const dir = join(FIXTURES, 'malformed')
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.http'))
  .map((f) => {
    const [statuses, level] = readFileSync(join(dir, f.replace(/\.http$/, '.expect')), 'utf8').trim().split(' ')
    const raw = readFileSync(join(dir, f))
    // what the app's log of requests shows for it: "METHOD /path"
    const line = raw.toString('latin1').split(' HTTP/')[0]!
    return { name: f.slice(0, -5), raw, expect: statuses, level: (level ?? 'none') as 'none' | 'body' | 'served', line }
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

    it('answers each case once, with Connection: close, reaching the app only as its .expect says, and keeps serving', async () => {
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
      // A served request reached the app; a valid head whose body later proved malformed may
      // have: a streaming server hands the head over first (sync, async); gthread may not,
      // when the bad body arrives before a thread took the head. Nothing else ever reaches it.
      const reached = cases.filter((c) => c.level !== 'none')
      if (cls === 'gthread') expect(seen).toEqual(reached.filter((c) => c.level === 'served' || seen.includes(c.line)).map((c) => c.line))
      else expect(seen).toEqual(reached.map((c) => c.line))
      const [still] = await waitForWorkers(p, 1)
      expect(still).toBe(pid)
    })
  })
}
