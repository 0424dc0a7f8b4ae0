import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import { explain, runExperiment } from '../../../dist/server/loadgen/experiment.js'
import type { ArbiterApi } from '../../../src/server/arbiter/api.js'
import type { LoadResult } from '../../../src/shared/protocol.js'
import { fileURLToPath } from 'node:url'

const SERVER = fileURLToPath(new URL('./counting-server.mjs', import.meta.url))
const children: ChildProcess[] = []
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
})

function result(requests: number, secs: number): LoadResult {
  return { requests, startedAt: 0, finishedAt: secs * 1000, latency: { p50: 0, p90: 0, p99: 100, max: 0, mean: 0 } } as LoadResult
}

describe('experiments', () => {
  it('explains with numbers computed from the workload and sizes', () => {
    const load = { url: '/io?ms=100', connections: 50, duration: 5, keepAlive: true }
    const text = explain(load, [
      { subject: { workerClass: 'sync', workers: 4 }, result: result(200, 5) },
      { subject: { workerClass: 'async', workers: 4 }, result: result(2400, 5) },
    ])
    expect(text).toContain('sync (4 workers): 40.0 req/s measured')
    expect(text).toContain('caps it at 40 req/s (4 workers × 1 request each / 0.1 s)')
    expect(text).toContain('caps it at 500 req/s (50 connections / 0.1 s)')
    expect(text).toContain('Winner: async')
  })

  it('bounds CPU work by the cores, however many threads there are', () => {
    const load = { url: '/cpu?ms=20', connections: 16, duration: 5, keepAlive: true }
    const text = explain(
      load,
      [
        { subject: { workerClass: 'gthread', workers: 2, threads: 4 }, result: result(450, 5) },
        { subject: { workerClass: 'sync', workers: 1 }, result: result(240, 5) },
      ],
      2,
    )
    expect(text).toContain('caps it at 100 req/s (2 cores (2 workers × 4 threads) / 0.02 s)')
    expect(text).toContain('caps it at 50 req/s (1 worker × 1 request each / 0.02 s)')
  })

  it('switches class, scales, waits for ready, runs the load per subject', async () => {
    const server = fork(SERVER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    children.push(server)
    const [{ port }] = (await once(server, 'message')) as [{ port: number }]
    const calls: string[] = []
    let cls = 'sync'
    let n = 1
    // A stand-in arbiter: the real one is exercised by the arbiter's own tests.
    const api = {
      snapshot: () => ({
        generation: 1,
        reload: null,
        listeners: [{ kind: 'tcp', host: '127.0.0.1', port }],
        workers: Array.from({ length: n }, () => ({ state: 'ready', generation: 1, workerClass: cls })),
      }),
      setWorkerClass: async (c: string) => {
        calls.push(`class ${c}`)
        cls = c
        return { ok: true, generation: 1 }
      },
      scaleTo: (k: number) => {
        calls.push(`scale ${k}`)
        n = k
        return k
      },
    } as unknown as ArbiterApi
    const out = await runExperiment(
      { load: { url: '/', connections: 2, amount: 50, keepAlive: true }, subjects: [{ workerClass: 'sync', workers: 2 }, { workerClass: 'async', workers: 1 }] },
      api,
    )
    expect(calls).toEqual(['class sync', 'scale 2', 'class async', 'scale 1'])
    expect(out.results.map((r) => r.result.requests)).toEqual([50, 50])
    expect(out.explanation).toMatch(/Winner: /)
  })
})
