/**
 * The connection to one arbiter: the session, the latest snapshot and the settings.
 * Every other store is fed from here (see wire() in main.ts).
 */
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { ArbiterSnapshot, CommandResult, ControlCommand, ControlError, ControlEvent, SettingInfo } from '@shared/protocol'
import type { ReplayedHistory } from '@shared/history'
import type { ControlTransport } from '../transport/types'
import { ControlSession } from '../lib/session'

export type ConnStatus = 'idle' | 'connecting' | 'open' | 'closed'

/**
 * Snapshots arrive 4 times a second: none for this long means the master is not answering
 * (busy, stopped with SIGSTOP, or the link is gone). While the master was unresponsive the
 * header used to say `running` in green with a frozen uptime, and every button stayed enabled.
 */
export const STALE_AFTER_MS = 2000

export const useConnectionStore = defineStore('connection', () => {
  const status = ref<ConnStatus>('idle')
  const reason = ref<string | null>(null)
  const fatal = ref<ControlError | null>(null)
  const snapshot = shallowRef<ArbiterSnapshot | null>(null)
  const settings = ref<SettingInfo[]>([])
  const session = shallowRef<ControlSession | null>(null)
  const kind = ref<ControlTransport['kind'] | null>(null)
  const transport = shallowRef<ControlTransport | null>(null)
  const snapshotListeners = new Set<(s: ArbiterSnapshot) => void>()
  const eventListeners = new Set<(e: ControlEvent) => void>()
  /** when the last snapshot arrived, by this machine's clock (the server's may differ) */
  const receivedAt = ref<number | null>(null)
  /** this machine's clock, ticking while connected, so the age of the data can grow without new data */
  const clock = ref(Date.now())
  let clockTimer: ReturnType<typeof setInterval> | null = null
  const historyListeners = new Set<(welcome: { history: ReplayedHistory; snapshot: ArbiterSnapshot }) => void>()

  function connect(t: ControlTransport): void {
    session.value?.close()
    if (!clockTimer) clockTimer = setInterval(() => (clock.value = Date.now()), 500)
    kind.value = t.kind
    transport.value = t
    const s = new ControlSession(t, {
      onStatus(st, why) {
        status.value = st
        reason.value = why ?? null
        if (st === 'open') fatal.value = null
      },
      onWelcome(snap, set, history) {
        settings.value = set
        // what the server kept first (a new tab starts with the last 10 minutes), then the present
        if (history) for (const l of historyListeners) l({ history, snapshot: snap })
        receive(snap)
      },
      onSnapshot: receive,
      onEvent(e) {
        if (e.type === 'config.changed') void refreshSettings()
        for (const l of eventListeners) l(e)
      },
      onError(err) {
        fatal.value = err
      },
    })
    session.value = s
    s.open()
  }

  function receive(snap: ArbiterSnapshot): void {
    snapshot.value = snap
    receivedAt.value = clock.value = Date.now()
    for (const l of snapshotListeners) l(snap)
  }

  async function command(c: ControlCommand): Promise<CommandResult> {
    if (!session.value) return { ok: false, error: { code: 'PADDOCK_ERR_INTERNAL', message: 'not connected' } }
    return session.value.command(c)
  }

  async function refreshSettings(): Promise<void> {
    const r = await command({ cmd: 'config.get' })
    if (r.ok && Array.isArray(r.data)) settings.value = r.data as SettingInfo[]
  }

  const snapshotAgeMs = computed(() => (receivedAt.value === null ? null : Math.max(0, clock.value - receivedAt.value)))
  /** what is shown may no longer be true: the link is down, or no snapshot came for STALE_AFTER_MS */
  const stale = computed(() => status.value !== 'open' || snapshotAgeMs.value === null || snapshotAgeMs.value > STALE_AFTER_MS)
  const live = computed(() => snapshot.value?.workers.filter((w) => w.state !== 'exited') ?? [])

  return {
    status,
    reason,
    fatal,
    snapshot,
    settings,
    session,
    kind,
    transport,
    live,
    snapshotAgeMs,
    stale,
    connect,
    command,
    refreshSettings,
    onSnapshot: (l: (s: ArbiterSnapshot) => void) => subscribe(snapshotListeners, l),
    onEvent: (l: (e: ControlEvent) => void) => subscribe(eventListeners, l),
    onHistory: (l: (welcome: { history: ReplayedHistory; snapshot: ArbiterSnapshot }) => void) => subscribe(historyListeners, l),
  }
})

/** Adds a listener; the function returned removes it, as every other `on...` in paddock. */
function subscribe<T>(listeners: Set<(value: T) => void>, listener: (value: T) => void): () => void {
  listeners.add(listener)
  return () => {
    listeners.delete(listener)
  }
}
