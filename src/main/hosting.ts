/**
 * What the desktop app hosts, without Electron: the engine started as `paddock dashboard`
 * starts it (startHostedServer in src/server/host/start.ts), so it is tested under plain Node.
 *
 * The engine is loaded at run time from its compiled directory (dist/server), never bundled
 * into main: it forks its workers and binder from files beside it.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { HostedServer } from '../server/host/start.js'

export type Hosting = HostedServer

/**
 * argv: paddock options and an optional app module (as after `--` on the command line).
 * Without an app, the teaching demo app is served.
 */
export async function startHosting(opts: { engineDir: string; demoApp: string; argv: string[] }): Promise<Hosting> {
  // a load call with a literal file name: test/package/builder.test.ts reads these to check the packaging
  const load = <T>(rel: string) => import(pathToFileURL(path.join(opts.engineDir, rel)).href) as Promise<T>
  const { startHostedServer } = await load<typeof import('../server/host/start.js')>('host/start.js')
  return startHostedServer({ argv: opts.argv, demoApp: opts.demoApp })
}
