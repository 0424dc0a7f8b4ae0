/**
 * A fleet server is reached by its TCP control endpoint (`HOST:PORT`, `tls://HOST:PORT`, with
 * a token) or, when it runs on this machine, by its Unix control socket (`unix:PATH`, no
 * token: the socket's file modes already admit only its user). Shared by the engine's relays,
 * Electron main and the Fleet view, so all three tell the two apart the same way.
 */
export const LOCAL_PREFIX = 'unix:'

/** A server found running on this machine (a live control socket in paddock's socket directory). */
export interface LocalServer {
  /** `unix:PATH` */
  address: string
  /** the socket's file name, e.g. `12345.sock` or `api.sock` (--name) */
  name: string
}

/** The answer to a look for local servers. */
export interface LocalServers {
  /** where they were looked for ($XDG_RUNTIME_DIR/paddock/ by default) */
  dir: string
  servers: LocalServer[]
}

export function isLocalAddress(address: string): boolean {
  return address.trim().startsWith(LOCAL_PREFIX)
}

export function localAddress(socketPath: string): string {
  return `${LOCAL_PREFIX}${socketPath}`
}
