/**
 * Which control sockets belong to a running master. A master killed with -9 (or a crash)
 * leaves its `.sock` file behind; connecting to it fails at once with ECONNREFUSED, while a
 * live master's listener accepts even when its event loop is busy (the kernel completes
 * the connection from the backlog). No Electron here: `paddock ctl`, the desktop Open
 * dialog and the Fleet view's "add local servers" (browser and desktop) all use it.
 */
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { defaultSocketDir } from './unix-socket.js'
import { LOCAL_PREFIX, localAddress, type LocalServers } from '../../shared/fleet-address.js'

/** True when something accepts connections on this Unix socket path. */
export function isSocketAlive(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(socketPath)
    const done = (alive: boolean) => {
      clearTimeout(timer)
      sock.destroy()
      resolve(alive)
    }
    // a master stopped with SIGSTOP still completes the connect; only an absent listener fails
    const timer = setTimeout(() => done(false), timeoutMs)
    sock.once('connect', () => done(true))
    sock.once('error', () => done(false))
  })
}

/** The `.sock` files in dir (default $XDG_RUNTIME_DIR/paddock/) that a live master answers on, sorted by name. */
export async function liveControlSockets(dir = defaultSocketDir()): Promise<string[]> {
  let names: string[]
  try {
    names = fs.readdirSync(dir).filter((f) => f.endsWith('.sock')).sort()
  } catch {
    return []
  }
  const paths = names.map((n) => path.join(dir, n))
  const alive = await Promise.all(paths.map((p) => isSocketAlive(p)))
  return paths.filter((_, i) => alive[i])
}

/** The servers running on this machine, as the Fleet view adds them: `unix:PATH` addresses. */
export async function localServers(dir = defaultSocketDir()): Promise<LocalServers> {
  const live = await liveControlSockets(dir)
  return { dir, servers: live.map((p) => ({ address: localAddress(p), name: path.basename(p) })) }
}

/**
 * The socket path behind a `unix:PATH` fleet address, accepted only for a `.sock` file directly
 * in paddock's socket directory. The relays pass a page's frames on to whatever they connect
 * to, so without this a dashboard page could be relayed to any Unix socket its user can open
 * (a container engine's, a database's); confined here, it reaches paddock masters only.
 */
export function localSocketPath(address: string, dir = defaultSocketDir()): string {
  const raw = address.trim()
  if (!raw.startsWith(LOCAL_PREFIX)) throw new Error(`"${address}" is not a local server address (${LOCAL_PREFIX}PATH)`)
  const p = path.resolve(raw.slice(LOCAL_PREFIX.length))
  if (path.dirname(p) !== path.resolve(dir) || !p.endsWith('.sock')) throw new Error(`${p} is not a control socket in ${dir}: only servers there can be added as local ones`)
  return p
}
