/**
 * Component tests drive the real stores and views through the transport boundary: an
 * in-memory ControlTransport records the frames the renderer sends and lets a test play
 * the server's frames. (The real transports are exercised by the e2e suite in Chromium.)
 */
import { PROTOCOL_VERSION, type ArbiterSnapshot, type ClientFrame, type ServerFrame, type WorkerSnapshot } from '../../src/shared/protocol'
import type { ControlTransport } from '../../src/renderer/src/transport/types'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { wire } from '../../src/renderer/src/stores/wire'

/** Fresh stores wired to an in-memory transport, as each component test starts from. */
export function freshDashboard(): { pinia: Pinia; m: ReturnType<typeof memoryTransport> } {
  const pinia = createPinia()
  setActivePinia(pinia)
  const m = memoryTransport()
  wire(m.transport)
  return { pinia, m }
}

export function memoryTransport() {
  const sent: ClientFrame[] = []
  let h: Parameters<ControlTransport['open']>[0] | null = null
  const transport: ControlTransport = {
    kind: 'websocket',
    token: 't0ken',
    open(handlers) {
      h = handlers
      handlers.onOpen()
    },
    send: (f) => void sent.push(f),
    close: () => {},
  }
  return {
    transport,
    sent,
    /** play a frame from the server */
    push: (f: ServerFrame) => h!.onFrame(f),
    drop: (reason: string) => h!.onClose(reason),
    /** answer the last command sent */
    answerLast(result: Extract<ServerFrame, { type: 'result' }>['result']) {
      const last = [...sent].reverse().find((f) => f.type === 'command') as Extract<ClientFrame, { type: 'command' }>
      h!.onFrame({ type: 'result', id: last.id, result })
      return last.command
    },
  }
}

export function worker(p: Partial<WorkerSnapshot> = {}): WorkerSnapshot {
  return {
    pid: 1000,
    id: 1,
    slot: 0,
    workerClass: 'sync',
    generation: 1,
    state: 'ready',
    spawnedAt: 0,
    readyAt: 100,
    requests: 0,
    inFlight: 0,
    queued: 0,
    connections: 0,
    upgraded: 0,
    threadsBusy: 0,
    threadsTotal: 1,
    cpu: null,
    rss: null,
    loopLagMs: 0,
    lastHeartbeat: null,
    ...p,
  }
}

export function snapshot(p: Partial<ArbiterSnapshot> = {}): ArbiterSnapshot {
  return {
    protocol: PROTOCOL_VERSION,
    at: 10_000,
    pid: 42,
    name: 'paddock',
    state: 'running',
    startedAt: 0,
    app: '/srv/demo/app.mjs',
    workerClass: 'sync',
    targetWorkers: 1,
    threads: 1,
    workerConnections: 1000,
    generation: 1,
    listeners: [{ bind: '127.0.0.1:0', kind: 'tcp', host: '127.0.0.1', port: 8123, backlog: 2048, queueDepth: 3 }],
    counters: { requests: 0, reloads: 0, workersSpawned: 1, workersExited: 0, workersKilled: 0, timeouts: 0 },
    workers: [worker()],
    rates: { requestsPerSec: 0, p50Ms: null, p99Ms: null },
    system: null,
    lastError: null,
    reload: null,
    load: null,
    upgrade: { available: false, newMasterPid: null, newMasterReady: false, oldMasterPid: null },
    ...p,
  }
}
