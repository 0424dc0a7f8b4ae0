/** How a listener is shown to people: the dashboard's header, `paddock ctl status`. */
import type { ListenerSnapshot } from './protocol.js'

/**
 * The address actually bound: a bind with port 0 (the kernel chose one) shows the chosen
 * port, an IPv6 host gets its brackets; a unix socket shows its path.
 */
export function boundAddress(l: Pick<ListenerSnapshot, 'kind' | 'bind' | 'host' | 'port' | 'path'>): string {
  if (l.kind === 'unix') return l.path !== undefined ? `unix:${l.path}` : l.bind
  if (l.port === undefined || l.host === undefined) return l.bind
  return `${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`
}

/** The address as people are shown it: with https:// in front when the listener serves TLS. */
export function shownAddress(l: Pick<ListenerSnapshot, 'kind' | 'bind' | 'host' | 'port' | 'path' | 'tls'>): string {
  return l.tls ? `https://${boundAddress(l)}` : boundAddress(l)
}
