/**
 * Which control sockets belong to a running master. A master killed with -9 (or a crash)
 * leaves its `.sock` file behind; connecting to it fails at once with ECONNREFUSED, while a
 * live master's listener accepts even when its event loop is busy (the kernel completes
 * the connection from the backlog). No Electron here: `paddock ctl` and the desktop Open
 * dialog both use it.
 */
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { defaultSocketDir } from './unix-socket.js'

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
