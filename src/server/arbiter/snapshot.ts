/** The arbiter's snapshot: what the control plane sends, built from the arbiter's parts. */
import { tlsEnabled } from '../http/tls.js'
import type { ResolvedConfig } from '../config/resolve.js'
import type { BoundListener } from './binds.js'
import { workerSnapshot, type WorkerRecord } from './worker-record.js'
import { PROTOCOL_VERSION, type ArbiterSnapshot, type ArbiterState, type WorkerClassName } from '../../shared/protocol.js'

export interface SnapshotParts extends Pick<ArbiterSnapshot, 'state' | 'startedAt' | 'targetWorkers' | 'generation' | 'counters' | 'rates' | 'lastError' | 'reload' | 'upgrade'> {
  config: ResolvedConfig
  state: ArbiterState
  listeners: BoundListener[]
  workers: WorkerRecord[]
}

export function arbiterSnapshot(p: SnapshotParts): ArbiterSnapshot {
  const s = p.config.settings
  return {
    protocol: PROTOCOL_VERSION,
    at: Date.now(),
    pid: process.pid,
    name: String(s.proc_name ?? 'paddock'),
    state: p.state,
    startedAt: p.startedAt,
    app: String(p.config.app ?? ''),
    workerClass: s.worker_class as WorkerClassName,
    targetWorkers: p.targetWorkers,
    threads: Number(s.threads),
    workerConnections: Number(s.worker_connections),
    generation: p.generation,
    listeners: p.listeners.map((l) => ({ ...l.snapshot, tls: tlsEnabled(s) })),
    counters: p.counters,
    workers: p.workers.map(workerSnapshot),
    rates: p.rates,
    system: null,
    lastError: p.lastError,
    reload: p.reload,
    load: null,
    upgrade: p.upgrade,
  }
}
