/**
 * The dashboard's checks before it sends a scale: refused at the field (a fraction, or
 * beyond the server's max_workers, which the engine would refuse too), or asked first
 * (far beyond the CPUs, with the memory it will take; a large scale-down while requests run).
 * "scale to 500" on 2 vCPU used to be sent as is and froze the machine for minutes.
 */

/** Scaling beyond this many workers per CPU asks first. */
export const WORKERS_PER_CPU_ASK = 4

export function scaleProblem(n: unknown, maxWorkers: number | null): string | null {
  if (typeof n !== 'number' || !Number.isFinite(n)) return 'a whole number of workers'
  if (!Number.isInteger(n)) return `${n} is not a whole number of workers`
  if (n < 1) return 'at least 1 worker'
  if (maxWorkers !== null && n > maxWorkers) return `at most ${maxWorkers} (max_workers, set at start with --max-workers)`
  return null
}

export interface ScalePlan {
  to: number
  from: number
  cores: number | null
  /** mean resident size of the live workers, bytes */
  meanRss: number | null
  inFlight: number
}

export function scaleQuestion(p: ScalePlan, fmtBytes: (n: number) => string): string | null {
  if (p.cores !== null && p.to > p.from && p.to > WORKERS_PER_CPU_ASK * p.cores) {
    const memory = p.meanRss !== null ? `, about ${fmtBytes(p.meanRss * p.to)} of memory at ${fmtBytes(p.meanRss)} each` : ''
    return `${p.to} workers on ${p.cores} CPU${p.cores === 1 ? '' : 's'}: more than ${WORKERS_PER_CPU_ASK} per CPU${memory}. Each one boots the app and competes for the CPUs.`
  }
  if (p.inFlight > 0 && p.to < p.from && p.from - p.to >= Math.max(2, p.from / 2)) {
    return `Scaling down from ${p.from} to ${p.to} drains ${p.from - p.to} workers while ${p.inFlight} request${p.inFlight === 1 ? ' is' : 's are'} in flight (they finish first).`
  }
  return null
}
