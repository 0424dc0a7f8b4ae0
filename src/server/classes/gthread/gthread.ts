/**
 * The gthread worker class: the process's main thread owns every connection with the same
 * HTTP edge as async, and each parsed request runs on a free thread of a pool (pool.ts).
 * The app loads once per thread; the main thread loads it too only when it exports
 * `upgrade`, since sockets (and so WebSockets) cannot go to threads.
 */
import { loadApp, type LoadedApp } from '../../app/load.js'
import { createHttpServer } from '../../http/server.js'
import { closeIdleConnections } from '../drain.js'
import { workerConnections } from '../event-loop.js'
import { serveUpgrades } from '../upgrade.js'
import type { WorkerClass } from '../worker-class.js'
import { startThreadPool } from './pool.js'

export const gthreadClass: WorkerClass = {
  name: 'gthread',
  traits: { shedsConnections: true },
  keepAlive: true,
  upgrades: 'app',
  acceptLimit: workerConnections,
  async boot(ctx) {
    const s = ctx.settings
    const threads = Math.max(1, Number(s.threads ?? 1))
    const pool = await startThreadPool({ threads, settings: s, log: ctx.log, onChange: ctx.acceptChanged })
    ctx.counters.threadsTotal = threads
    const app: LoadedApp | null = pool.hasUpgrade ? await loadApp(String(s.app), { factory: s.factory === true, interface: String(s.interface ?? 'auto') }) : null
    return {
      async createServer() {
        const server = createHttpServer({ settings: s, counters: ctx.counters, keepAlive: gthreadClass.keepAlive, serve: { dispatch: pool.dispatch }, ...ctx.edge })
        serveUpgrades(server, app?.upgrade, gthreadClass, ctx)
        return server
      },
      // it also stops accepting while every thread is busy and requests already wait
      pressure: pool,
      // the main thread's count of running requests includes those waiting for a thread: split them
      figures(stats) {
        const running = pool.running()
        return { ...stats, inFlight: running, queued: pool.queued(), threadsBusy: running, threadsTotal: pool.size, threadSlots: pool.slots() }
      },
      closeIdle: closeIdleConnections,
      closeApp: () => pool.closeApps(),
    }
  },
}
