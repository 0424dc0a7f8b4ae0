/**
 * Listen queue depth on Linux: for a socket in LISTEN state the kernel reports the current
 * accept queue length as rx_queue in /proc/net/tcp{,6}. Unix sockets have no such column in
 * /proc/net/unix, so they get null.
 *
 * Only the head of each file is read. /proc/net/tcp is every TCP socket of the network
 * namespace as text, TIME_WAIT included, and the kernel lists the listening sockets first
 * (the listening hash, then the established one: tcp_get_idx): reading it whole with 26k
 * TIME_WAIT entries (what a few seconds of `Connection: close` traffic leave behind) cost
 * the master 115-300 ms of CPU per read, once a second, 20% of a core taken from the
 * workers. Reading stops at the first socket that is not listening, and the kernel formats
 * no more than was read.
 */
import { open } from 'node:fs/promises'

export interface ListenQueue {
  port: number
  queue: number
}

const LISTEN = '0A'
const CHUNK = 16 * 1024

/**
 * One line of /proc/net/tcp or tcp6: the listening socket it shows, null for a line that
 * is no socket (the header, a blank), or 'other' for a socket in another state.
 */
export function procNetTcpLine(line: string): ListenQueue | null | 'other' {
  const f = line.trim().split(/\s+/)
  // f[1] local "ADDR:PORT" hex, f[3] state, f[4] "tx_queue:rx_queue" hex
  if (f.length < 5 || !/^[0-9A-F]{2}$/i.test(f[3]!)) return null
  if (f[3] !== LISTEN) return 'other'
  const port = parseInt(f[1]!.split(':').pop()!, 16)
  const rx = parseInt(f[4]!.split(':')[1] ?? '', 16)
  return Number.isFinite(port) && Number.isFinite(rx) ? { port, queue: rx } : null
}

/** The LISTEN sockets of a /proc/net/tcp text (what the head of the file holds). */
export function parseProcNetTcp(text: string): ListenQueue[] {
  const out: ListenQueue[] = []
  for (const line of text.split('\n')) {
    const q = procNetTcpLine(line)
    if (q === 'other') break
    if (q) out.push(q)
  }
  return out
}

/**
 * The listening sockets at the head of the file, read a chunk at a time up to the first
 * other socket; `bytesRead` says how much of the file that took.
 */
export async function readListening(file: string): Promise<{ listening: ListenQueue[]; bytesRead: number }> {
  const out = { listening: [] as ListenQueue[], bytesRead: 0 }
  let fh
  try {
    fh = await open(file, 'r')
  } catch {
    return out
  }
  try {
    const buf = Buffer.allocUnsafe(CHUNK)
    let partial = ''
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null)
      out.bytesRead += bytesRead
      const lines = (partial + buf.toString('latin1', 0, bytesRead)).split('\n')
      partial = bytesRead === 0 ? '' : lines.pop()!
      for (const line of lines) {
        const q = procNetTcpLine(line)
        if (q === 'other') return out
        if (q) out.listening.push(q)
      }
      if (bytesRead === 0) return out
    }
  } catch {
    return out
  } finally {
    await fh.close()
  }
}

/** port -> queue depth (summed over v4 and v6 listeners on the port); empty off Linux. */
export async function readListenQueues(): Promise<Map<number, number>> {
  const map = new Map<number, number>()
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const q of (await readListening(file)).listening) map.set(q.port, (map.get(q.port) ?? 0) + q.queue)
  }
  return map
}
