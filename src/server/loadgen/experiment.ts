/**
 * Experiments: run the same load against several worker classes / sizes in turn
 * and explain the measured numbers with a queueing model the student can check.
 */
import type { ArbiterApi } from '../arbiter/api.js'
import type { ExperimentOptions, ExperimentResult, ExperimentSubject, LoadOptions, LoadProgress } from '../../shared/protocol.js'
import { availableParallelism } from 'node:os'
import { startLoad } from './index.js'
import { resolveUrl } from './target.js'

const DEFAULT_MS: Record<string, number> = { '/io': 100, '/cpu': 10, '/block': 100 }

// re-exported: the host imports it from here
export { resolveUrl }

async function waitReady(api: ArbiterApi, s: ExperimentSubject, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const snap = api.snapshot()
    const ready = snap.workers.filter((w) => w.state === 'ready' && w.generation === snap.generation && w.workerClass === s.workerClass).length
    const others = snap.workers.filter((w) => w.state !== 'exited' && w.generation !== snap.generation).length
    if (snap.reload === null && ready >= s.workers && others === 0) return
    if (Date.now() > end) throw new Error(`workers not ready after ${timeoutMs / 1000} s (${ready}/${s.workers} ready)`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

export async function runExperiment(
  options: ExperimentOptions,
  api: ArbiterApi,
  onProgress: (subject: ExperimentSubject, p: LoadProgress) => void = () => {},
): Promise<{ results: ExperimentResult[]; explanation: string }> {
  const results: ExperimentResult[] = []
  // the server goes back to what it was before the experiment: Compare and the lessons
  // used to leave it on the last subject they tested
  const before = api.snapshot()
  const restore: ExperimentSubject = { workerClass: before.workerClass, workers: before.targetWorkers, threads: before.threads, workerConnections: before.workerConnections }
  const of = options.subjects.length
  try {
    for (const [index, subject] of options.subjects.entries()) {
      const out = await api.setWorkerClass(subject.workerClass, { threads: subject.threads, workerConnections: subject.workerConnections })
      if (!out.ok) throw new Error(`switching to ${subject.workerClass} failed: ${out.error ?? 'unknown error'}`)
      api.scaleTo(subject.workers)
      await waitReady(api, subject)
      const load: LoadOptions = { ...options.load, url: resolveUrl(options.load.url, api) }
      const h = startLoad(load, (p) => onProgress(subject, { ...p, experiment: { subject, index, of } }))
      results.push({ subject, result: await h.done })
    }
  } finally {
    await restoreServer(api, restore)
  }
  return { results, explanation: explain(options.load, results) }
}

async function restoreServer(api: ArbiterApi, s: ExperimentSubject): Promise<void> {
  const now = api.snapshot()
  const same = now.workerClass === s.workerClass && now.threads === s.threads && now.workerConnections === s.workerConnections
  if (!same) await api.setWorkerClass(s.workerClass, { threads: s.threads, workerConnections: s.workerConnections }).catch(() => undefined)
  if (api.snapshot().targetWorkers !== s.workers) {
    try {
      api.scaleTo(s.workers)
    } catch {
      // a server stopped meanwhile: nothing to restore
    }
  }
}

/**
 * How many requests one subject can have in service at once for this workload, and why.
 * CPU work is also bounded by the machine's cores (the load runs on the same machine).
 */
export function capacity(load: LoadOptions, s: ExperimentSubject, cores = availableParallelism()): { slots: number; why: string } {
  const path = new URL(load.url, 'http://x').pathname
  const byClass = slotsOf(path, s)
  if (path === '/cpu' && cores < byClass.slots) return { slots: cores, why: `${count(cores, 'core')} (${byClass.why})` }
  return byClass
}

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`

function slotsOf(path: string, s: ExperimentSubject): { slots: number; why: string } {
  const threads = s.threads ?? 1
  const conns = s.workerConnections ?? 1000
  if (s.workerClass === 'sync') return { slots: s.workers, why: `${count(s.workers, 'worker')} × 1 request each` }
  if (s.workerClass === 'gthread') return { slots: s.workers * threads, why: `${count(s.workers, 'worker')} × ${count(threads, 'thread')}` }
  // async / native: waiting does not hold the loop, blocking or burning CPU does.
  if (path === '/io') return { slots: s.workers * conns, why: `${count(s.workers, 'worker')} × ${count(conns, 'connection')} (waiting does not block the loop)` }
  return { slots: s.workers, why: `${count(s.workers, 'worker')} (${path} holds the event loop)` }
}

/** A paragraph built only from the workload parameters and the measured results. */
export function explain(load: LoadOptions, results: ExperimentResult[], cores = availableParallelism()): string {
  if (results.length === 0) return 'No subjects were run.'
  const u = new URL(load.url, 'http://x')
  const raw = u.searchParams.get('ms')
  const ms = raw !== null && Number.isFinite(Number(raw)) ? Number(raw) : DEFAULT_MS[u.pathname]
  const parts: string[] = []
  for (const { subject: s, result: r } of results) {
    const secs = Math.max(0.001, (r.finishedAt - r.startedAt) / 1000)
    const measured = r.requests / secs
    let line = `${s.workerClass} (${count(s.workers, 'worker')}${s.threads ? `, ${count(s.threads, 'thread')}` : ''}): ${measured.toFixed(1)} req/s measured, p99 ${r.latency.p99} ms`
    if (ms) {
      const c = capacity(load, s, cores)
      // Little's law: throughput <= requests in service / time per request.
      const bySlots = c.slots / (ms / 1000)
      const byClients = load.connections / (ms / 1000)
      const cap = Math.min(bySlots, byClients, load.rate ?? Infinity)
      const limit = cap === bySlots ? `${c.why} / ${ms / 1000} s` : cap === byClients ? `${load.connections} connections / ${ms / 1000} s` : `the offered rate`
      line += `; the model caps it at ${cap.toFixed(0)} req/s (${limit})`
    }
    parts.push(line + '.')
  }
  const best = [...results].sort((a, b) => b.result.requests / (b.result.finishedAt - b.result.startedAt) - a.result.requests / (a.result.finishedAt - a.result.startedAt))[0]
  let why = ''
  if (u.pathname === '/io') why = ' Waiting for I/O costs no CPU, so the model that keeps the most requests waiting at once wins.'
  else if (u.pathname === '/block') why = ' A blocking call holds its thread, so only separate threads or processes run such requests in parallel.'
  else if (u.pathname === '/cpu') why = ' CPU work is bounded by cores: beyond one busy thread per core, more concurrency adds only queueing.'
  return `${parts.join(' ')} Winner: ${best.subject.workerClass} with ${count(best.subject.workers, 'worker')}.${why}`
}
