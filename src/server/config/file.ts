/**
 * Loading a config file: `paddock.config.{js,mjs,ts}` or `-c FILE`. Its default export
 * (or module namespace) holds settings by their snake_case names, an optional `app`,
 * and hook functions. TypeScript files are loaded through jiti so Node 20 works too.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { PaddockError } from '../errors.js'

export const DEFAULT_CONFIG_FILES = ['paddock.config.js', 'paddock.config.mjs', 'paddock.config.ts']

export function findDefaultConfig(cwd: string): string | null {
  for (const name of DEFAULT_CONFIG_FILES) {
    const p = resolve(cwd, name)
    if (existsSync(p)) return p
  }
  return null
}

/** Load a config module fresh (HUP re-reads it), returning its plain object. */
export async function loadConfigFile(file: string): Promise<Record<string, unknown>> {
  const abs = resolve(file)
  if (!existsSync(abs)) throw new PaddockError('PADDOCK_ERR_CONFIG', `config file not found: ${abs}`)
  let mod: Record<string, unknown>
  try {
    if (/\.[cm]?ts$/.test(abs)) {
      const { createJiti } = await import('jiti')
      const jiti = createJiti(import.meta.url, { moduleCache: false, fsCache: false })
      mod = (await jiti.import(abs)) as Record<string, unknown>
    } else {
      // A query string busts the ESM cache so a reload sees the edited file.
      mod = (await import(`${pathToFileURL(abs).href}?t=${Date.now()}`)) as Record<string, unknown>
    }
  } catch (err) {
    throw new PaddockError('PADDOCK_ERR_CONFIG', `config file ${abs} failed to load: ${(err as Error).message}`, { cause: err })
  }
  const value = (mod && typeof mod === 'object' && 'default' in mod ? mod.default : mod) as unknown
  if (!value || typeof value !== 'object') {
    throw new PaddockError('PADDOCK_ERR_CONFIG', `config file ${abs} must export an object of settings`)
  }
  return value as Record<string, unknown>
}
