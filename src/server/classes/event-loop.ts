/**
 * The sync and async worker classes: one Node event loop per process serving HTTP.
 *   sync   exactly one connection at a time; while busy the process does not accept,
 *          so waiting connections go to idle workers; Connection: close every time.
 *   async  up to worker_connections connections on the loop; above that the process
 *          stops accepting and the backlog feeds other workers; keep-alive on.
 */
import { callClose, loadApp } from '../app/load.js'
import { createHttpServer } from '../http/server.js'
import { closeIdleConnections } from './drain.js'
import { serveUpgrades } from './upgrade.js'
import type { BootedClass, ClassContext, WorkerClass } from './worker-class.js'

export const syncClass: WorkerClass = {
  name: 'sync',
  traits: { shedsConnections: false },
  keepAlive: false,
  upgrades: 'opt-in',
  acceptLimit: () => 1,
  boot: (ctx) => bootEventLoop(syncClass, ctx),
}

export const asyncClass: WorkerClass = {
  name: 'async',
  traits: { shedsConnections: true },
  keepAlive: true,
  upgrades: 'app',
  acceptLimit: workerConnections,
  boot: (ctx) => bootEventLoop(asyncClass, ctx),
}

/** the connection limit of every class but sync */
export function workerConnections(settings: Record<string, unknown>): number {
  return Number(settings.worker_connections ?? 1000)
}

/** The figures as the counters have them: one event loop runs every request. */
export const ownFigures: BootedClass['figures'] = (stats) => stats

async function bootEventLoop(cls: WorkerClass, ctx: ClassContext): Promise<BootedClass> {
  const s = ctx.settings
  const app = await loadApp(String(s.app), { factory: s.factory === true, interface: String(s.interface ?? 'auto') })
  return {
    async createServer() {
      const server = createHttpServer({ settings: s, counters: ctx.counters, keepAlive: cls.keepAlive, serve: { app: app.listener }, ...ctx.edge })
      serveUpgrades(server, app.upgrade, cls, ctx)
      return server
    },
    figures: ownFigures,
    closeIdle: closeIdleConnections,
    closeApp: () => callClose(app.close),
  }
}

