/**
 * The fleet: several servers, each over its own ControlSession (transport/fleet.ts), with
 * the figures the Fleet view shows per server and in total, and the fleet actions.
 *
 * Tokens: in the browser they live only in this store, so only while the page is open; on
 * the desktop, main keeps them (safeStorage) and gives them back at start.
 *
 * Rolling reload, as `paddock ctl reload --rolling`: one server after another, each reload
 * answered once its new generation is ready (readiness-gated on the server), then checked to
 * run with ready workers of that generation before the next server starts; a failed
 * (rolled-back) reload stops the rollout there, and the rest are left alone.
 */
import { defineStore } from 'pinia'
import { computed, markRaw, reactive, ref } from 'vue'
import type { ArbiterSnapshot, CommandResult, ControlCommand, ControlEvent } from '@shared/protocol'
import type { ControlTransport } from '../transport/types'
import { fleetTransport, listLocalServers, type FleetServerSpec, type LocalServers } from '../transport/fleet'
import { ControlSession } from '../lib/session'

/** Samples kept for a row's throughput sparkline (one a second). */
const SPARK_POINTS = 60
/** The window over which the error rate is counted, from sampled request spans. */
const ERROR_WINDOW_MS = 10_000
const SERVING_WAIT_MS = 15_000

export type RolloutStep = 'waiting' | 'reloading' | 'done' | 'failed' | 'skipped'

export interface FleetServer {
  id: string
  address: string
  status: 'connecting' | 'open' | 'closed'
  reason: string | null
  /** a refusal that retrying cannot fix (wrong token) */
  fatal: string | null
  snapshot: ArbiterSnapshot | null
  spark: number[]
  /** sampled spans per heartbeat: when, how many, how many answered 5xx */
  spans: { at: number; total: number; errors: number }[]
  rollout: { step: RolloutStep; message?: string } | null
  /** the last own action's outcome, shown in the row */
  note: string | null
}

export const useFleetStore = defineStore('fleet', () => {
  const servers = ref<FleetServer[]>([])
  const sessions = new Map<string, ControlSession>()
  const specs = new Map<string, FleetServerSpec>()
  const rolling = ref(false)
  const rolloutMessage = ref<string | null>(null)
  let connector: (spec: FleetServerSpec) => ControlTransport = fleetTransport
  let lister: () => Promise<LocalServers> = () => listLocalServers()
  let nextId = 1
  /** what the last look for local servers found, for the view */
  const localNote = ref<string | null>(null)

  /** For tests and the desktop: how a server is reached. */
  function setConnector(fn: (spec: FleetServerSpec) => ControlTransport): void {
    connector = fn
  }

  /** For tests: how the servers on this machine are found. */
  function setLocalLister(fn: () => Promise<LocalServers>): void {
    lister = fn
  }

  /**
   * Adds every server running on this machine that is not in the fleet yet, by its control
   * socket (no token: the socket's file modes guard it). Returns how many were added.
   */
  async function addLocal(): Promise<number> {
    let found: LocalServers
    try {
      found = await lister()
    } catch (err) {
      localNote.value = `cannot list local servers: ${err instanceof Error ? err.message : String(err)}`
      return 0
    }
    const fresh = found.servers.filter((l) => !servers.value.some((s) => s.address === l.address))
    for (const l of fresh) add({ address: l.address, token: '' })
    const n = found.servers.length
    localNote.value = n === 0
      ? `no paddock server running on this machine (looked in ${found.dir})`
      : `${n} local server${n === 1 ? '' : 's'} in ${found.dir}: ${fresh.length ? `${fresh.length} added` : 'all already here'}`
    return fresh.length
  }

  function find(id: string): FleetServer | undefined {
    return servers.value.find((s) => s.id === id)
  }

  function add(spec: FleetServerSpec): FleetServer {
    const address = spec.address.trim()
    const known = servers.value.find((s) => s.address === address)
    if (known) return known
    const server: FleetServer = reactive({
      id: `s${nextId++}`, address, status: 'connecting', reason: null, fatal: null, snapshot: null, spark: [], spans: [], rollout: null, note: null,
    }) as FleetServer
    servers.value.push(server)
    specs.set(server.id, { ...spec, address })
    let lastSpark = 0
    const session = new ControlSession(connector({ ...spec, address }), {
      onStatus(st, why) {
        server.status = st
        server.reason = why ?? null
        if (st === 'open') server.fatal = null
      },
      onWelcome(snap) {
        server.snapshot = markRaw(snap)
      },
      onSnapshot(snap) {
        server.snapshot = markRaw(snap)
        if (snap.at - lastSpark >= 1000) {
          lastSpark = snap.at
          server.spark = [...server.spark.slice(-(SPARK_POINTS - 1)), snap.rates.requestsPerSec]
        }
      },
      onEvent(e: ControlEvent) {
        if (e.type !== 'spans') return
        const total = e.spans.length
        if (total === 0) return
        const errors = e.spans.filter((s) => s.status >= 500).length
        server.spans = [...server.spans.filter((x) => e.at - x.at < ERROR_WINDOW_MS), { at: e.at, total, errors }]
      },
      onError(err) {
        server.fatal = `${err.message} (${err.code})`
      },
    })
    sessions.set(server.id, markRaw(session) as ControlSession)
    session.open()
    return server
  }

  function remove(id: string): void {
    sessions.get(id)?.close()
    sessions.delete(id)
    specs.delete(id)
    servers.value = servers.value.filter((s) => s.id !== id)
  }

  /** The spec to open this server's own views with (a second session, for the per-server views). */
  function specOf(id: string): FleetServerSpec | undefined {
    return specs.get(id)
  }

  async function command(id: string, c: ControlCommand): Promise<CommandResult> {
    const session = sessions.get(id)
    const server = find(id)
    if (!session || !server) return { ok: false, error: { code: 'PADDOCK_ERR_INTERNAL', message: 'no such server' } }
    const r = await session.command(c)
    server.note = r.ok ? (r.message ?? 'ok') : `${r.error.message} (${r.error.code})`
    return r
  }

  async function scaleAll(count: number): Promise<void> {
    await Promise.all(servers.value.filter((s) => s.status === 'open').map((s) => command(s.id, { cmd: 'workers.scale', count })))
  }

  async function rollingReload(): Promise<boolean> {
    if (rolling.value) return false
    rolling.value = true
    rolloutMessage.value = null
    const order = [...servers.value]
    for (const s of order) s.rollout = { step: 'waiting' }
    try {
      for (const [i, s] of order.entries()) {
        s.rollout = { step: 'reloading' }
        const r = await command(s.id, { cmd: 'reload' })
        const why = r.ok ? await serving(s) : `${r.error.message} (${r.error.code})`
        if (why !== null) {
          s.rollout = { step: 'failed', message: why }
          for (const rest of order.slice(i + 1)) rest.rollout = { step: 'skipped' }
          rolloutMessage.value = `rolling reload stopped at ${s.address}: ${why}`
          return false
        }
        s.rollout = { step: 'done', message: r.ok ? r.message : undefined }
      }
      rolloutMessage.value = `rolling reload done: ${order.length} server${order.length === 1 ? '' : 's'}`
      return true
    } finally {
      rolling.value = false
    }
  }

  /** null once the server's snapshots show it running with ready workers of its current generation. */
  async function serving(s: FleetServer): Promise<string | null> {
    const deadline = Date.now() + SERVING_WAIT_MS
    for (;;) {
      const snap = s.snapshot
      const ready = snap?.workers.filter((w) => w.state === 'ready' && w.generation === snap.generation).length ?? 0
      if (snap && snap.state === 'running' && ready > 0 && snap.reload === null) return null
      if (Date.now() > deadline) return `reloaded, but the server is ${snap?.state ?? 'unknown'} with ${ready} ready worker(s)`
      await new Promise((r) => setTimeout(r, 250))
    }
  }

  const totals = computed(() => {
    let ready = 0, target = 0, rps = 0, queue = 0, total = 0, errors = 0, open = 0
    let p99: number | null = null
    for (const s of servers.value) {
      const snap = s.snapshot
      if (!snap || s.status !== 'open') continue
      open++
      ready += readyWorkers(snap)
      target += snap.targetWorkers
      rps += snap.rates.requestsPerSec
      queue += listenQueue(snap) ?? 0
      if (snap.rates.p99Ms !== null) p99 = Math.max(p99 ?? 0, snap.rates.p99Ms)
      for (const x of s.spans) {
        total += x.total
        errors += x.errors
      }
    }
    return { servers: servers.value.length, open, ready, target, rps, queue, p99, errorRate: total ? errors / total : null }
  })

  return { servers, rolling, rolloutMessage, localNote, totals, setConnector, setLocalLister, add, addLocal, remove, specOf, command, scaleAll, rollingReload }
})

export function readyWorkers(s: ArbiterSnapshot): number {
  return s.workers.filter((w) => w.state === 'ready').length
}

export function listenQueue(s: ArbiterSnapshot): number | null {
  const known = s.listeners.filter((l) => l.queueDepth !== null)
  return known.length ? known.reduce((a, l) => a + (l.queueDepth ?? 0), 0) : null
}

export function errorRate(server: Pick<FleetServer, 'spans'>): number | null {
  const total = server.spans.reduce((a, x) => a + x.total, 0)
  return total ? server.spans.reduce((a, x) => a + x.errors, 0) / total : null
}
