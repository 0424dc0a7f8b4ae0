/**
 * The process side of a gthread worker: starts `threads` threads (see gthread-thread.ts),
 * and folds their reports into the worker's heartbeat: threads busy / total, which slots
 * are lit, requests, connections, queued.
 */
import { Worker } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import type { ThreadData, ThreadMessage } from './gthread-thread.js'
import type { WorkerMessage } from '../worker/ipc.js'
import type { RequestRef, RequestSpan } from '../../shared/protocol.js'

export interface ThreadPool {
  beat(): Extract<WorkerMessage, { t: 'hb' }>
  drain(): void
  exited: Promise<void>
}

export async function startThreadPool(opts: {
  threads: number
  fdsPerThread: number[][]
  settings: Record<string, unknown>
  generation: number
  heartbeatMs: number
  send: (m: WorkerMessage) => void
}): Promise<ThreadPool> {
  const entry = fileURLToPath(new URL('./gthread-thread.js', import.meta.url))
  const last: (Extract<ThreadMessage, { t: 'beat' }> | null)[] = Array(opts.threads).fill(null)
  const busy: boolean[] = Array(opts.threads).fill(false)
  const requestsBase: number[] = Array(opts.threads).fill(0)
  const workers: Worker[] = []
  const ready = opts.fdsPerThread.map((fds, index) => {
    const w = new Worker(entry, { workerData: { index, fds, settings: opts.settings, generation: opts.generation, pid: process.pid, heartbeatMs: opts.heartbeatMs } satisfies ThreadData })
    workers.push(w)
    return new Promise<void>((resolve, reject) => {
      w.on('message', (m: ThreadMessage) => {
        switch (m.t) {
          case 'ready':
            return resolve()
          case 'boot-error':
            return reject(new Error(m.error))
          case 'beat':
            last[index] = m
            busy[index] = m.busy
            requestsBase[index] = m.beat.stats.requests
            return
          case 'req':
            busy[index] = true
            return opts.send({ t: 'req', request: m.request })
          case 'log':
            return opts.send({ t: 'log', level: m.level, message: m.message })
        }
      })
      w.on('error', (err) => {
        opts.send({ t: 'log', level: 'error', message: `thread ${index} crashed: ${err.stack ?? err}` })
        reject(err)
      })
    })
  })
  await Promise.all(ready)
  const exited = Promise.all(workers.map((w) => new Promise<void>((r) => w.once('exit', () => r())))).then(() => undefined)
  return {
    exited,
    drain: () => workers.forEach((w) => w.postMessage({ t: 'drain' })),
    beat: () => {
      const beats = last.filter((b): b is Extract<ThreadMessage, { t: 'beat' }> => b !== null)
      const inFlight: RequestRef[] = beats.flatMap((b) => b.beat.inFlight)
      const spans: RequestSpan[] = beats.flatMap((b) => b.beat.spans)
      const sum = (f: (b: (typeof beats)[number]) => number) => beats.reduce((a, b) => a + f(b), 0)
      const msg: Extract<WorkerMessage, { t: 'hb' }> = {
        t: 'hb',
        stats: {
          requests: requestsBase.reduce((a, b) => a + b, 0),
          inFlight: sum((b) => b.beat.stats.inFlight),
          queued: sum((b) => b.beat.stats.queued),
          connections: sum((b) => b.beat.stats.connections),
          upgraded: 0,
          threadsBusy: busy.filter(Boolean).length,
          threadsTotal: opts.threads,
          threadSlots: [...busy],
          loopLagMs: Math.max(0, ...beats.map((b) => b.beat.stats.loopLagMs)),
          durations: beats.flatMap((b) => b.beat.stats.durations),
        },
        inFlight,
        spans,
        droppedSpans: sum((b) => b.beat.droppedSpans),
      }
      // Each thread's beat is consumed once.
      for (let i = 0; i < last.length; i++) last[i] = null
      return msg
    },
  }
}
