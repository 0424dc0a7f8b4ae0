/**
 * Listen queue depth on Linux. For a socket in LISTEN state (st 0A) the kernel
 * reports the current accept queue length as rx_queue in /proc/net/tcp{,6}.
 * Unix sockets have no such column in /proc/net/unix, so they get null.
 */
import { readFile } from 'node:fs/promises'

export interface ListenQueue {
  port: number
  queue: number
}

/** Parses the text of /proc/net/tcp or tcp6 and returns LISTEN sockets with their queue. */
export function parseProcNetTcp(text: string): ListenQueue[] {
  const out: ListenQueue[] = []
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 5) continue
    // f[1] local "ADDR:PORT" hex, f[3] state, f[4] "tx_queue:rx_queue" hex
    if (f[3] !== '0A') continue
    const port = parseInt(f[1]!.split(':').pop()!, 16)
    const rx = parseInt(f[4]!.split(':')[1] ?? '', 16)
    if (Number.isFinite(port) && Number.isFinite(rx)) out.push({ port, queue: rx })
  }
  return out
}

/** port -> queue depth (summed over v4 and v6 listeners on the port); empty map off Linux. */
export async function readListenQueues(): Promise<Map<number, number>> {
  const map = new Map<number, number>()
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch {
      continue
    }
    for (const q of parseProcNetTcp(text)) map.set(q.port, (map.get(q.port) ?? 0) + q.queue)
  }
  return map
}
