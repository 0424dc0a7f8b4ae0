/**
 * The Unix control socket for `paddock ctl`: length-prefixed JSON frames
 * (see framing.ts). The directory is 0700 and the socket 0600, so only the
 * owner can steer the server. A broken frame closes that client only.
 */
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import type { ControlServer } from './control-server.js'
import { encodeFrame, FrameDecoder, FrameError, MAX_FRAME_BYTES } from './framing.js'

export function defaultSocketDir(): string {
  const xdg = process.env.XDG_RUNTIME_DIR
  if (xdg) return path.join(xdg, 'paddock')
  return path.join(os.tmpdir(), `paddock-${process.getuid?.() ?? 'user'}`)
}

export function defaultSocketPath(name?: string): string {
  const base = (name && name.replace(/[^A-Za-z0-9._-]/g, '_')) || String(process.pid)
  return path.join(defaultSocketDir(), `${base}.sock`)
}

export interface UnixControlSocket {
  path: string
  close(): Promise<void>
}

export async function startUnixSocket(
  control: ControlServer,
  opts: { path?: string; name?: string; maxFrameBytes?: number } = {},
): Promise<UnixControlSocket> {
  const sockPath = opts.path ?? defaultSocketPath(opts.name)
  const dir = path.dirname(sockPath)
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  if (dir === defaultSocketDir()) fs.chmodSync(dir, 0o700)
  // A stale socket from a crashed run would make listen fail with EADDRINUSE.
  try {
    if (fs.statSync(sockPath).isSocket()) fs.unlinkSync(sockPath)
  } catch {
    // absent
  }
  const conns = new Set<net.Socket>()
  const server = net.createServer((sock) => {
    conns.add(sock)
    const decoder = new FrameDecoder(opts.maxFrameBytes ?? MAX_FRAME_BYTES)
    const send = (frame: unknown) => {
      if (!sock.destroyed) sock.write(encodeFrame(frame))
    }
    const session = control.subscribe({ send, close: () => sock.end() })
    sock.on('data', (chunk) => {
      let frames: unknown[]
      try {
        frames = decoder.push(chunk)
      } catch (err) {
        const message = err instanceof FrameError ? err.message : 'bad frame'
        send({ type: 'error', error: { code: 'PADDOCK_ERR_PROTOCOL', message } })
        session.close()
        sock.end()
        sock.pause()
        return
      }
      for (const f of frames) void session.receive(f).catch(() => {})
    })
    sock.on('error', () => {})
    sock.on('close', () => {
      conns.delete(sock)
      session.close()
    })
  })
  // umask would otherwise decide the mode between listen and chmod.
  const oldMask = process.umask(0o177)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(sockPath, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } finally {
    process.umask(oldMask)
  }
  fs.chmodSync(sockPath, 0o600)
  return {
    path: sockPath,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.destroy()
        server.close(() => resolve())
        try {
          fs.unlinkSync(sockPath)
        } catch {
          // already gone
        }
      }),
  }
}

/** Client side, used by `paddock ctl` and `dashboard --attach`. */
export function connectUnix(sockPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(sockPath)
    s.once('connect', () => {
      s.off('error', reject)
      resolve(s)
    })
    s.once('error', reject)
  })
}
