/**
 * The bound on the number of workers. Without one, "scale to 500" on 2 vCPU booted ~500
 * workers, pushed the load average past 300 and froze the machine for minutes (issue 19).
 * The default follows what the machine can carry: 16 workers per usable CPU (a sync
 * worker mostly waits on I/O, so well above the core count is normal; 32 async workers
 * on 2 vCPU were measured smooth), and no more workers than memory holds at 64 MiB each
 * (a Node worker's resident size with a small app is 45-60 MiB).
 */
import os from 'node:os'
import { PaddockError } from '../errors.js'
import { usableCpus } from '../platform/cpus.js'

export const WORKERS_PER_CPU = 16
export const MEMORY_PER_WORKER = 64 * 1024 * 1024

export function defaultMaxWorkers(cpus = usableCpus().count, memTotal = os.totalmem()): number {
  return Math.max(2, Math.min(WORKERS_PER_CPU * cpus, Math.floor(memTotal / MEMORY_PER_WORKER)))
}

/** The reason a worker count is refused, or null when it is within the bound. */
export function workerCountProblem(n: number, maxWorkers: number): string | null {
  if (!Number.isInteger(n) || n < 1) return `worker count must be a whole number of at least 1, got ${n}`
  if (n > maxWorkers) return `${n} workers is above max_workers (${maxWorkers}, --max-workers); raise --max-workers first if this machine can carry them`
  return null
}

export function checkWorkerCount(n: number, maxWorkers: number): void {
  const problem = workerCountProblem(n, maxWorkers)
  if (problem) throw new PaddockError('PADDOCK_ERR_INVALID_VALUE', problem)
}
