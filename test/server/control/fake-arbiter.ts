/** A minimal in-memory ArbiterApi for transport tests (the real Arbiter is tested in test/server/arbiter). */
import type { ArbiterApi } from '../../../src/server/arbiter/api.js'
import { PaddockError } from '../../../src/server/errors.js'
import type { ArbiterSnapshot, ControlEvent, SettingInfo } from '../../../src/shared/protocol.js'

export function fakeArbiter(port = 8000) {
  const listeners = new Set<(e: ControlEvent) => void>()
  let target = 2
  const api: ArbiterApi & { emit(e: ControlEvent): void } = {
    emit: (e) => listeners.forEach((l) => l(e)),
    snapshot: (): ArbiterSnapshot => ({
      protocol: 1, at: Date.now(), pid: process.pid, name: 'fake', state: 'running', startedAt: Date.now(),
      app: 'app.mjs', workerClass: 'sync', targetWorkers: target, threads: 1, workerConnections: 1000, generation: 1,
      listeners: [{ bind: `127.0.0.1:${port}`, kind: 'tcp', host: '127.0.0.1', port, backlog: 2048, queueDepth: null }],
      counters: { requests: 3, reloads: 0, workersSpawned: 1, workersExited: 0, workersKilled: 0, timeouts: 0 },
      workers: [{
        pid: process.pid, id: 1, slot: 0, workerClass: 'sync', generation: 1, state: 'ready', spawnedAt: 0, readyAt: 0, requests: 3,
        inFlight: 0, queued: 0, connections: 1, upgraded: 0, threadsBusy: 0, threadsTotal: 1, cpu: null, rss: null,
        loopLagMs: 0, lastHeartbeat: null,
      }],
      rates: { requestsPerSec: 0, p50Ms: null, p99Ms: null }, system: null, lastError: null, reload: null, load: null,
      upgrade: { available: false, newMasterPid: null, newMasterReady: false, oldMasterPid: null },
    }),
    onEvent: (l) => (listeners.add(l), () => listeners.delete(l)),
    reload: async () => ({ ok: true, generation: 2 }),
    addWorkers: (n = 1) => (target += n),
    removeWorkers: (n = 1) => (target = Math.max(1, target - n)),
    scaleTo: (n) => (target = n),
    setWorkerClass: async () => ({ ok: true, generation: 2 }),
    killWorker: (pid) => {
      if (pid !== process.pid) throw new PaddockError('PADDOCK_ERR_NO_SUCH_WORKER', `no worker with pid ${pid}`)
    },
    reopenLogs: () => {},
    stopWorkers: async () => {},
    reexec: async () => ({ ok: false, error: 'fake arbiter' }),
    cancelReexec: async () => ({ ok: false, error: 'fake arbiter' }),
    stop: async () => {},
    settings: (): SettingInfo[] => [
      { name: 'workers', value: target, default: 1, source: 'cli', apply: 'live', type: 'int', description: 'workers' },
    ],
    setSetting: async (name) => {
      throw new PaddockError('PADDOCK_ERR_UNKNOWN_SETTING', `no setting named "${name}"`)
    },
    workerPids: () => [process.pid],
  }
  return api
}
