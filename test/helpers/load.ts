/**
 * A counting load client for the reliability tests: closed-loop, keep-alive, one agent per
 * loop (so each loop is one connection), and every outcome classified exactly.
 */
import http from 'node:http'

export type Outcome = 'ok' | 'refused' | 'reset' | 'timeout' | 'non2xx' | 'other'

export interface Served {
  at: number
  pid: number | null
  outcome: Outcome
}

export function classify(err: NodeJS.ErrnoException): Outcome {
  if (err.code === 'ECONNREFUSED') return 'refused'
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || /socket hang up/.test(err.message)) return 'reset'
  if (err.code === 'ETIMEDOUT' || err.message === 'timeout') return 'timeout'
  return 'other'
}

/** GET `path` in `loops` parallel loops until stop(); when the body is JSON with a pid, record it. */
export function countingLoad(port: number, path: string, loops: number, opts: { keepAlive?: boolean; timeoutMs?: number } = {}) {
  let running = true
  const served: Served[] = []
  const agents: http.Agent[] = []
  const one = (agent: http.Agent) =>
    new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => (body += d))
        res.on('end', () => {
          let pid: number | null = null
          try {
            pid = (JSON.parse(body) as { pid?: number }).pid ?? null
          } catch {}
          served.push({ at: Date.now(), pid, outcome: res.statusCode! >= 200 && res.statusCode! < 300 ? 'ok' : 'non2xx' })
          resolve()
        })
        res.on('error', (err) => {
          served.push({ at: Date.now(), pid: null, outcome: classify(err) })
          resolve()
        })
      })
      req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })))
      req.on('error', (err: NodeJS.ErrnoException) => {
        served.push({ at: Date.now(), pid: null, outcome: classify(err) })
        resolve()
      })
    })
  const all = Array.from({ length: loops }, async () => {
    const agent = new http.Agent({ keepAlive: opts.keepAlive ?? true, maxSockets: 1 })
    agents.push(agent)
    while (running) await one(agent)
  })
  return {
    served,
    counts(from = 0, to = Infinity): Record<Outcome, number> {
      const c: Record<Outcome, number> = { ok: 0, refused: 0, reset: 0, timeout: 0, non2xx: 0, other: 0 }
      for (const s of served) if (s.at >= from && s.at < to) c[s.outcome]++
      return c
    },
    async stop() {
      running = false
      await Promise.all(all)
      for (const a of agents) a.destroy()
    },
  }
}
