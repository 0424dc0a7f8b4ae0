/**
 * Connection balancing, a policy apart from the arbiter's loop (as undici keeps its pool
 * balancing apart): figures in, decisions out, no timers and no processes.
 *
 * Kept-alive connections stay with the worker that accepted them. After a respawn (or a
 * TTIN) the new worker would idle while the old ones keep every connection, as with Node
 * cluster and Gunicorn gthread. While one worker holds less than 80% of the fair share, a
 * worker above 120% of it is asked to close its surplus after their current responses;
 * clients reconnect, and the kernel hands the new connections to whoever accepts, mostly
 * the idle worker (the crowded one holds off accepting meanwhile).
 */
import type { WorkerStats } from '../worker/ipc.js'
import type { WorkerRecord } from './worker-record.js'

/**
 * How far from the fair share of connections a worker may be before the arbiter moves some:
 * one below (1 - t) of it while another is above (1 + t). At 0.5 the first round could stop
 * with the new worker at a quarter of the connections after a respawn (asked for too few
 * on counts a heartbeat old), and a quarter was then also the point where nothing moved.
 */
export const BALANCE_TOLERANCE = 0.2
/** at most two rounds a second; a worker becoming ready starts one at once */
export const BALANCE_INTERVAL_MS = 500
/** how long a worker may take to give back connections before it is asked again */
export const SHED_PATIENCE_MS = 3000

/** What balancing knows of one ready worker. */
export interface BalanceFigures {
  pid: number
  /** open connections at its last heartbeat (0 before its first) */
  connections: number
  /** it can serve more: moving connections to a saturated worker only adds reconnects */
  hasRoom: boolean
  /** its class can give connections back ({t:'shed'}); one that cannot takes no part */
  canShed: boolean
  /** when its last heartbeat came, null before the first */
  reportedAt: number | null
  /** when it was last asked to shed, null if never */
  shedAskedAt: number | null
  /** connections it still has to give back, as its last heartbeat said */
  shedding: number
}

/** Ask worker `pid` to close `count` kept-alive connections after their current responses. */
export interface ShedRequest {
  pid: number
  count: number
}

/** Room for more: no request waits, and a thread pool (if any) has a free thread. A worker yet to report has room. */
export function hasRoom(stats: WorkerStats | null): boolean {
  return !stats || (stats.queued === 0 && (stats.threadsTotal <= 1 || stats.threadsBusy < stats.threadsTotal))
}

/** The figures of a ready worker; `canShed` comes from its class. */
export function balanceFigures(w: WorkerRecord, canShed: boolean): BalanceFigures {
  return {
    pid: w.pid,
    connections: w.stats?.connections ?? 0,
    hasRoom: hasRoom(w.stats),
    canShed,
    reportedAt: w.lastHeartbeat,
    shedAskedAt: w.shed?.at ?? null,
    shedding: w.stats?.shedding ?? 0,
  }
}

/**
 * One balancing round over the ready workers. Null when no round can be made now (fewer
 * than two workers take part, or their counts predate the last worker exit); otherwise the
 * requests to send, possibly none.
 */
export function planBalance(workers: BalanceFigures[], now: number, lastExitAt: number): ShedRequest[] | null {
  const ready = workers.filter((w) => w.canShed)
  if (ready.length < 2) return null
  // Counts from before the last exit miss the dead worker's clients, which reconnect to
  // the survivors at once: acting on them would ask for too few back (measured: 6 of 24
  // asked where 12 were due, leaving the new worker at its 25% floor). Wait, without the
  // pause between two rounds, for a heartbeat from each worker that has sent one since.
  if (ready.some((w) => w.reportedAt !== null && w.reportedAt < lastExitAt)) return null
  const total = ready.reduce((a, w) => a + w.connections, 0)
  const share = total / ready.length
  if (total < ready.length * 2) return []
  // Only towards a worker with room: between two saturated gthread workers (every thread
  // busy, requests waiting) moving connections only adds reconnects.
  if (!ready.some((w) => w.connections < share * (1 - BALANCE_TOLERANCE) && w.hasRoom)) return []
  const requests: ShedRequest[] = []
  for (const w of ready) {
    const surplus = Math.floor(w.connections - share)
    if (!(w.connections > share * (1 + BALANCE_TOLERANCE) && surplus > 0)) continue
    // Still giving back what it was asked last time (each connection leaves only after its
    // current response, which can take seconds under load): asking again would move far
    // too many, and the other worker would end up the crowded one (measured: 76/24 ->
    // 34/66 with /io?ms=100 on gthread). It says in its heartbeats how many it still has
    // to give back.
    const asked = w.shedAskedAt
    const stillShedding = asked !== null && (w.reportedAt ?? 0) > asked && w.shedding > 0
    if (asked !== null && stillShedding && now - asked < SHED_PATIENCE_MS) continue
    requests.push({ pid: w.pid, count: surplus })
  }
  return requests
}

/** When balancing last ran and when a worker last exited: the only state balancing keeps. */
export class Balancer {
  private lastRoundAt = 0
  /** connection counts reported before then are out of date */
  private lastExitAt = 0

  /** a new worker takes its share of kept-alive connections at once */
  workerReady(): void {
    this.lastRoundAt = 0
  }

  workerExited(at: number): void {
    this.lastExitAt = at
  }

  /** The requests to send now, if a round is due. */
  round(workers: BalanceFigures[], now: number): ShedRequest[] {
    if (now - this.lastRoundAt < BALANCE_INTERVAL_MS) return []
    const plan = planBalance(workers, now, this.lastExitAt)
    if (plan === null) return []
    this.lastRoundAt = now
    return plan
  }

  /**
   * A round over the arbiter's live workers, if one is due: the ready ones take part (one
   * just ready has no heartbeat yet: it holds no connections); each asked to shed is marked
   * (`shed.at`, see SHED_PATIENCE_MS) and `ask` sends it the count.
   */
  shedFrom(live: WorkerRecord[], now: number, ask: (w: WorkerRecord, count: number) => void): void {
    const ready = new Map(live.filter((w) => w.state === 'ready').map((w) => [w.pid, w]))
    const figures = [...ready.values()].map((w) => balanceFigures(w, w.traits?.shedsConnections ?? false))
    for (const { pid, count } of this.round(figures, now)) {
      const w = ready.get(pid)!
      w.shed = { at: now }
      ask(w, count)
    }
  }
}
