/**
 * The seam between the worker runtime (src/server/worker/main.ts) and a worker class:
 * everything that differs between sync, async, gthread and native is decided here, so the
 * runtime never asks which class it runs.
 *
 *   worker runtime                                    a WorkerClass
 *   hooks, access log          ── boot(ctx) ──────>   loads the app, starts its threads
 *   post_worker_init, 'booted'
 *   listens on every fd        ── createServer() ─>   the http.Server the listeners feed,
 *                                                     keep-alive and upgrades as the class does
 *   accept gate                <─ acceptLimit, pressure
 *   'ready' { traits }         <─ traits (what the master needs to know)
 *   each heartbeat             <─ figures(stats)
 *   draining, every 50 ms      ── closeIdle(sockets)
 */
import type http from 'node:http'
import type { Socket } from 'node:net'
import type { WorkerClassName, LogLevel } from '../../shared/protocol.js'
import type { WorkerCounters, WorkerStats } from '../accounting/counters.js'
import type { HttpServerOptions } from '../http/server.js'
import type { PoolPressure } from './accept.js'

/** What the master needs to know about a worker's class: sent with the worker's 'ready'. */
export interface WorkerTraits {
  /**
   * It keeps connections open between requests and closes some after their current
   * response when the master asks it to give connections back ({t:'shed'}, rebalancing).
   * sync keeps nothing open; native's responses are written by the app's own server.
   */
  shedsConnections: boolean
}

/** The traits as a running worker reports them: its class's, with the figures its settings give. */
export interface ReportedTraits extends WorkerTraits {
  /** connections it holds at most (acceptLimit); the rest wait in the kernel backlog */
  connectionCap: number
}

/** The per-request parts of the HTTP edge that the runtime owns: hooks, access log, drain, shed. */
export type EdgeReactions = Pick<HttpServerOptions, 'onRequestStart' | 'onRequestEnd' | 'onAppError' | 'countBytes' | 'isDraining' | 'shed' | 'hooks' | 'onHookError' | 'onRejected'>

/** What the runtime hands a class at boot. */
export interface ClassContext {
  settings: Record<string, unknown>
  counters: WorkerCounters
  log(level: LogLevel, message: string): void
  edge: EdgeReactions
  /** something the accept decision depends on changed (a thread became free or busy) */
  acceptChanged(): void
}

export interface WorkerClass {
  readonly name: WorkerClassName
  readonly traits: WorkerTraits
  /** a response may keep its connection open; sync answers Connection: close every time */
  readonly keepAlive: boolean
  /**
   * Protocol upgrades (WebSockets): `app` hands them to the module's `upgrade` export,
   * `opt-in` refuses them unless allow_sync_upgrades (one long-lived connection would hold
   * the whole worker), `own-server` leaves them to the app's own http.Server.
   */
  readonly upgrades: 'app' | 'opt-in' | 'own-server'
  /** connections held at most; beyond that new ones wait in the kernel backlog for other workers */
  acceptLimit(settings: Record<string, unknown>): number
  /** Before post_worker_init: load the app, start threads. */
  boot(ctx: ClassContext): Promise<BootedClass>
}

export interface BootedClass {
  /** After 'booted': the server the listeners hand their connections to. */
  createServer(): Promise<http.Server>
  /** what else, besides the connection limit, stops it accepting (gthread: every thread busy) */
  readonly pressure?: PoolPressure
  /** its own figures over the counters', for each heartbeat */
  figures(stats: WorkerStats): WorkerStats
  /** Draining: close what it holds that no request uses. Called every 50 ms until the worker exits. */
  closeIdle(sockets: Set<Socket>): void
  /**
   * The app's own shutdown, once its last request has finished: the module's `close()`
   * export (native: also a Fastify or NestJS instance's `close()`); gthread runs it in each
   * thread, since each thread loaded its own copy of the app. Resolves to the errors raised.
   */
  closeApp(): Promise<string[]>
}
