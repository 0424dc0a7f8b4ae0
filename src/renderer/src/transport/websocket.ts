/**
 * Browser transport: a WebSocket to the `paddock dashboard` server that served this page.
 * The token comes from the URL fragment (#token=...), which browsers never send to a server.
 * The socket reconnects with back-off; each reconnect starts with a fresh hello.
 */
import type { ClientFrame, ServerFrame } from '@shared/protocol'
import type { ControlTransport } from './types'

export function websocketTransport(loc: Location = window.location): ControlTransport {
  const token = new URLSearchParams(loc.hash.replace(/^#/, '')).get('token') ?? ''
  let ws: WebSocket | null = null
  let closed = false
  let delay = 250
  let timer: ReturnType<typeof setTimeout> | null = null

  function connect(h: Parameters<ControlTransport['open']>[0]): void {
    const url = `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`
    ws = new WebSocket(url)
    ws.onopen = () => {
      delay = 250
      h.onOpen()
    }
    ws.onmessage = (m) => {
      try {
        h.onFrame(JSON.parse(String(m.data)) as ServerFrame)
      } catch {
        // a frame that is not JSON is ignored; the server never sends one
      }
    }
    ws.onclose = (e) => {
      ws = null
      h.onClose(e.reason || `connection closed (${e.code})`)
      // 4401: wrong token. Retrying cannot fix it.
      if (closed || e.code === 4401) return
      timer = setTimeout(() => connect(h), delay)
      delay = Math.min(delay * 2, 5000)
    }
  }

  return {
    kind: 'websocket',
    token,
    open: (h) => connect(h),
    send(frame: ClientFrame) {
      if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame))
      else throw new Error('not connected to the server')
    },
    close() {
      closed = true
      if (timer) clearTimeout(timer)
      ws?.close()
    },
    async saveFile(name: string, content: string) {
      // A browser download: the user's browser decides where it goes.
      const type = name.endsWith('.svg') ? 'image/svg+xml' : 'application/json'
      const a = document.createElement('a')
      a.href = URL.createObjectURL(new Blob([content], { type }))
      a.download = name
      a.click()
      setTimeout(() => URL.revokeObjectURL(a.href), 1000)
      return name
    },
  }
}
