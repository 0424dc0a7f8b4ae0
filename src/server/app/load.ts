/**
 * Loading the user's app: `MODULE[:EXPORT]` -> a Node request listener.
 * Accepted exports: a `(req, res)` function (Express, Connect, bare handlers), a Koa app
 * (its `callback()`), a Fastify instance (its `routing` after ready()), an object with
 * `fetch(request)` (Hono and other WinterCG apps), or with `factory` a function returning one.
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { resolve, isAbsolute } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { PaddockError } from '../errors.js'
import { fetchToNode, type FetchApp } from './fetch-adapter.js'

export type NodeListener = (req: IncomingMessage, res: ServerResponse) => unknown

export interface LoadedApp {
  listener: NodeListener
  kind: 'node' | 'fetch' | 'koa' | 'fastify'
  /** The export itself (native class uses its server). */
  raw: unknown
  /** A module-level `upgrade(req, socket, head)` export, if any. */
  upgrade?: (req: IncomingMessage, socket: import('node:net').Socket, head: Buffer) => void
  /** A module-level `close()` export (sync or async): called once, after the last request (database pools, queues). */
  close?: () => unknown
}

/** Run an app's close() (sync or async); what it raised, as a list (empty: none). */
export async function callClose(close: (() => unknown) | undefined): Promise<string[]> {
  if (!close) return []
  try {
    await close()
    return []
  } catch (err) {
    return [(err as Error)?.stack ?? String(err)]
  }
}

/** The module's `close()` export, if it has one. */
export function closeExport(mod: Record<string, unknown>): (() => unknown) | undefined {
  return typeof mod.close === 'function' ? (mod.close as () => unknown) : undefined
}

export function splitAppSpec(spec: string): { module: string; exportName: string } {
  // A Windows drive letter or a scheme is not an export separator.
  const i = spec.lastIndexOf(':')
  if (i > 1 && !spec.slice(i + 1).includes('/')) return { module: spec.slice(0, i), exportName: spec.slice(i + 1) || 'default' }
  return { module: spec, exportName: 'default' }
}

/** A module given as a file (./app.mjs, /srv/app.js, app.ts) rather than a package name. */
export function isModulePath(module: string): boolean {
  return module.startsWith('.') || isAbsolute(module) || /\.(m?js|cjs|ts)$/.test(module)
}

export async function importAppModule(spec: string, cwd = process.cwd()): Promise<{ mod: Record<string, unknown>; exportName: string; module: string }> {
  const { module, exportName } = splitAppSpec(spec)
  let url: string
  if (isModulePath(module)) {
    const abs = resolve(cwd, module)
    if (!existsSync(abs)) throw new PaddockError('PADDOCK_ERR_APP_NOT_FOUND', `app module not found: ${module} (looked for ${abs})`)
    url = pathToFileURL(abs).href
  } else {
    try {
      url = pathToFileURL(createRequire(resolve(cwd, 'noop.js')).resolve(module)).href
    } catch {
      throw new PaddockError('PADDOCK_ERR_APP_NOT_FOUND', `app module not found: ${module} (not a file, and no package of that name is installed)`)
    }
  }
  try {
    return { mod: (await import(url)) as Record<string, unknown>, exportName, module }
  } catch (err) {
    const e = err as Error
    throw new PaddockError('PADDOCK_ERR_APP_LOAD', `app module ${module} failed to load: ${e?.message ?? String(err)}`, { cause: err })
  }
}

export async function loadApp(spec: string, opts: { factory?: boolean; interface?: string; cwd?: string } = {}): Promise<LoadedApp> {
  const { mod, exportName, module } = await importAppModule(spec, opts.cwd)
  let value: unknown = mod[exportName]
  // A CommonJS module's exports arrive as `default`.
  if (value === undefined && exportName !== 'default' && mod.default && typeof mod.default === 'object') value = (mod.default as Record<string, unknown>)[exportName]
  if (value === undefined) throw new PaddockError('PADDOCK_ERR_APP_EXPORT', `app module ${module} has no export "${exportName}"`)
  if (opts.factory) {
    if (typeof value !== 'function') throw new PaddockError('PADDOCK_ERR_APP_EXPORT', `--factory: export "${exportName}" of ${module} is not a function`)
    value = await (value as () => unknown)()
  }
  const upgrade = typeof mod.upgrade === 'function' ? (mod.upgrade as LoadedApp['upgrade']) : undefined
  const loaded = await toListener(value, opts.interface ?? 'auto', `${module}:${exportName}`)
  return { ...loaded, raw: value, upgrade, close: closeExport(mod) }
}

async function toListener(value: unknown, iface: string, where: string): Promise<Omit<LoadedApp, 'raw' | 'upgrade'>> {
  const obj = value as Record<string, unknown> | null
  const isFetch = !!obj && typeof obj === 'object' && typeof obj.fetch === 'function'
  if (iface === 'fetch' || (iface === 'auto' && isFetch && typeof value !== 'function')) {
    if (!isFetch && typeof value !== 'function') throw notAnApp(where, value)
    const app: FetchApp = isFetch ? (value as FetchApp) : { fetch: value as FetchApp['fetch'] }
    return { listener: fetchToNode(app), kind: 'fetch' }
  }
  if (obj && typeof obj === 'object' || typeof value === 'function') {
    // Koa: app.callback() builds the (req, res) listener.
    if (typeof obj?.callback === 'function' && typeof obj?.use === 'function' && obj?.middleware) {
      return { listener: (obj.callback as () => NodeListener)(), kind: 'koa' }
    }
    // Fastify: an instance is callable only through its server's 'request' routing.
    if (typeof obj?.routing === 'function' && typeof obj?.ready === 'function') {
      await (obj.ready as () => Promise<unknown>)()
      return { listener: obj.routing as NodeListener, kind: 'fastify' }
    }
  }
  if (typeof value === 'function') return { listener: value as NodeListener, kind: 'node' }
  throw notAnApp(where, value)
}

function notAnApp(where: string, value: unknown): PaddockError {
  const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value
  return new PaddockError('PADDOCK_ERR_APP_EXPORT', `${where} is not an app: got ${what}; export a (req, res) function, an object with fetch(request), a Koa or Fastify app, or use --factory`)
}
