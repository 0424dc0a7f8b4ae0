/**
 * Lifecycle events and log lines, newest first, capped. Pausing freezes what is shown
 * while new items keep arriving underneath; resuming shows them all.
 * Also keeps each worker's lifecycle (spawned / ready / draining / exited) for the
 * generations timeline of a reload or class change.
 */
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { ControlEvent, LogLevel, WorkerSnapshot } from '@shared/protocol'

export const MAX_EVENTS = 500
export const MAX_LOGS = 1000
export const MAX_LIVES = 200
/** how long an exited worker's last snapshot is kept here: the engine forgets it after 10 s */
export const EXITED_KEEP_MS = 60_000

export interface ShownEvent {
  seq: number
  at: number
  kind: ControlEvent['type']
  pid: number | null
  severity: 'info' | 'warning' | 'error'
  text: string
}

export interface LogLine {
  seq: number
  at: number
  stream: 'error' | 'access'
  level: LogLevel
  pid: number
  message: string
}

export interface WorkerLife {
  pid: number
  generation: number
  spawnedAt: number
  readyAt: number | null
  drainingAt: number | null
  exitedAt: number | null
  reason: string | null
  expected: boolean
}

export function describeEvent(e: ControlEvent): { text: string; severity: ShownEvent['severity']; pid: number | null } | null {
  switch (e.type) {
    case 'worker.spawned':
      return { pid: e.pid, severity: 'info', text: `worker ${e.pid} spawned (generation ${e.generation}, ${e.workerClass})` }
    case 'worker.booted':
      return { pid: e.pid, severity: 'info', text: `worker ${e.pid} booted` }
    case 'worker.ready':
      return { pid: e.pid, severity: 'info', text: `worker ${e.pid} ready in ${e.bootMs} ms` }
    case 'worker.draining':
      return { pid: e.pid, severity: 'info', text: `worker ${e.pid} draining: ${e.reason}` }
    case 'worker.exited': {
      const how = e.signal ? `signal ${e.signal}` : `code ${e.code}`
      return { pid: e.pid, severity: e.expected ? 'info' : 'error', text: `worker ${e.pid} exited (${how}): ${e.reason}` }
    }
    case 'worker.timeout': {
      const what = e.request ? `${e.request.method} ${e.request.url}` : 'no request in flight'
      return { pid: e.pid, severity: 'error', text: `worker ${e.pid} timed out after ${(e.silentMs / 1000).toFixed(1)} s silent, stuck in ${what}` }
    }
    case 'reload.started':
      return { pid: null, severity: 'info', text: `reload started (${e.reload.reason}): generation ${e.reload.fromGeneration} → ${e.reload.toGeneration}` }
    case 'reload.progress':
      return null
    case 'reload.done':
      return { pid: null, severity: 'info', text: `reload done in ${e.ms} ms: generation ${e.reload.toGeneration} serving` }
    case 'reload.rolledback':
      return { pid: null, severity: 'error', text: `reload rolled back, generation ${e.reload.fromGeneration} keeps serving: ${e.error}` }
    case 'arbiter.state':
      return { pid: null, severity: e.state === 'errored' ? 'error' : 'info', text: `server ${e.state}${e.error ? `: ${e.error}` : ''}` }
    case 'config.changed':
      return { pid: null, severity: 'info', text: `settings changed: ${e.changes.map((c) => `${c.name} ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`).join(', ')}` }
    case 'load.done':
      return { pid: null, severity: 'info', text: `load test done: ${e.result.requests} requests, ${Object.values(e.result.errors).reduce((a, b) => a + b, 0)} errors` }
    default:
      return null
  }
}

export const useEventsStore = defineStore('events', () => {
  const events = shallowRef<ShownEvent[]>([])
  const logs = shallowRef<LogLine[]>([])
  const lives = shallowRef<Map<number, WorkerLife>>(new Map())
  /** the last snapshot of each worker seen exited, so its card and reason stay up for a minute */
  const exitedWorkers = shallowRef<Map<number, WorkerSnapshot>>(new Map())
  const paused = ref(false)
  const frozenEvents = shallowRef<ShownEvent[]>([])
  const frozenLogs = shallowRef<LogLine[]>([])
  const filter = ref('')
  const logStream = ref<'all' | 'error' | 'access'>('all')
  /** show only this process's lines (a worker's pid, or the master's) */
  const logPid = ref<number | null>(null)
  let seq = 0

  function life(pid: number, generation: number, at: number): WorkerLife {
    let l = lives.value.get(pid)
    if (!l) {
      l = { pid, generation, spawnedAt: at, readyAt: null, drainingAt: null, exitedAt: null, reason: null, expected: true }
      lives.value.set(pid, l)
      if (lives.value.size > MAX_LIVES) lives.value.delete(lives.value.keys().next().value!)
    }
    return l
  }

  function ingest(e: ControlEvent): void {
    if (e.type === 'log') {
      logs.value = [{ seq: seq++, at: e.at, stream: e.stream, level: e.level, pid: e.pid, message: e.message }, ...logs.value].slice(0, MAX_LOGS)
      return
    }
    if (e.type === 'worker.spawned') life(e.pid, e.generation, e.at)
    else if (e.type === 'worker.ready') life(e.pid, e.generation, e.at).readyAt = e.at
    else if (e.type === 'worker.draining') {
      const l = life(e.pid, e.generation, e.at)
      l.drainingAt = e.at
      l.reason = e.reason
    } else if (e.type === 'worker.exited') {
      const l = life(e.pid, e.generation, e.at)
      l.exitedAt = e.at
      l.reason = e.reason
      l.expected = e.expected
    }
    if (e.type.startsWith('worker.')) lives.value = new Map(lives.value)
    const d = describeEvent(e)
    if (d) events.value = [{ seq: seq++, at: e.at, kind: e.type, ...d }, ...events.value].slice(0, MAX_EVENTS)
  }

  /**
   * Workers spawned before this dashboard connected never sent it their spawned / ready
   * events: their lives would start at their first drain, as if they had lived an instant.
   * The snapshot knows when they were spawned and became ready.
   */
  function observe(workers: WorkerSnapshot[], now = Date.now()): void {
    let changed = false
    let exitedChanged = false
    const kept = exitedWorkers.value
    for (const w of workers) {
      if (w.state === 'exited' && kept.get(w.pid) !== w) {
        kept.set(w.pid, w)
        exitedChanged = true
      }
    }
    for (const [pid, w] of kept) {
      const exitedAt = lives.value.get(pid)?.exitedAt ?? w.lastHeartbeat ?? w.spawnedAt
      if (now - exitedAt > EXITED_KEEP_MS) {
        kept.delete(pid)
        exitedChanged = true
      }
    }
    if (exitedChanged) exitedWorkers.value = new Map(kept)
    for (const w of workers) {
      const known = lives.value.get(w.pid)
      if (!known && w.state === 'exited') continue
      const l = known ?? life(w.pid, w.generation, w.spawnedAt)
      if (!known || w.spawnedAt < l.spawnedAt) {
        l.spawnedAt = w.spawnedAt
        changed = true
      }
      if (l.readyAt === null && w.readyAt !== null) {
        l.readyAt = w.readyAt
        changed = true
      }
    }
    if (changed) lives.value = new Map(lives.value)
  }

  /** Start again from the events the server kept (oldest first); lives are rebuilt from them. */
  function replay(kept: ControlEvent[]): void {
    events.value = []
    logs.value = []
    lives.value = new Map()
    for (const e of kept) ingest(e)
  }

  function setPaused(p: boolean): void {
    if (p) {
      frozenEvents.value = events.value
      frozenLogs.value = logs.value
    }
    paused.value = p
  }

  const matches = (s: string) => !filter.value || s.toLowerCase().includes(filter.value.toLowerCase())
  const shownEvents = computed(() => (paused.value ? frozenEvents.value : events.value).filter((e) => matches(e.text) || matches(String(e.pid ?? ''))))
  const shownLogs = computed(() =>
    (paused.value ? frozenLogs.value : logs.value).filter((l) => (logStream.value === 'all' || l.stream === logStream.value) && (logPid.value === null || l.pid === logPid.value) && (matches(l.message) || matches(String(l.pid)))),
  )
  /** the processes that wrote the lines kept, for the worker filter */
  const logPids = computed(() => [...new Set(logs.value.map((l) => l.pid))].sort((a, b) => a - b))
  const waiting = computed(() => {
    if (!paused.value) return 0
    const since = Math.max(frozenEvents.value[0]?.seq ?? -1, frozenLogs.value[0]?.seq ?? -1)
    return events.value.filter((e) => e.seq > since).length + logs.value.filter((l) => l.seq > since).length
  })

  return { events, logs, lives, exitedWorkers, paused, filter, logStream, logPid, logPids, shownEvents, shownLogs, waiting, ingest, replay, observe, setPaused }
})
