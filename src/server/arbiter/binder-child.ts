/**
 * A short-lived child that binds the listening sockets and hands them to the master.
 * Why a child: a socket the master bound itself cannot be paused (libuv does not flag it
 * readable, so readStop() is a no-op) and the master would accept connections. A handle
 * received over IPC can be paused, so the master holds it and never accepts.
 */
import net from 'node:net'
import { existsSync, lstatSync, unlinkSync, chmodSync } from 'node:fs'
import type { BindSpec } from './binds.js'

const specs: BindSpec[] = JSON.parse(process.env.PADDOCK_BINDS ?? '[]')

async function bindOne(spec: BindSpec): Promise<net.Server> {
  const server = net.createServer()
  // Connections that reach this child before the hand-over cannot be served: refuse them fast.
  server.on('connection', (s) => s.destroy())
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    if (spec.kind === 'unix') {
      if (existsSync(spec.path!) && lstatSync(spec.path!).isSocket()) unlinkSync(spec.path!)
      server.listen({ path: spec.path, backlog: spec.backlog }, () => {
        chmodSync(spec.path!, 0o660)
        resolve()
      })
    } else {
      server.listen({ host: spec.host, port: spec.port, backlog: spec.backlog, ipv6Only: spec.host?.includes(':') }, () => resolve())
    }
  })
  return server
}

async function main(): Promise<void> {
  for (const [i, spec] of specs.entries()) {
    let server: net.Server
    try {
      server = await bindOne(spec)
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      process.send!({ t: 'bind-error', index: i, code: e.code, message: e.message })
      return
    }
    const addr = server.address()
    await new Promise<void>((resolve) => process.send!({ t: 'bound', index: i, address: addr }, server, () => resolve()))
  }
  process.send!({ t: 'done' }, () => process.exit(0))
}

main().catch((err) => {
  process.send?.({ t: 'bind-error', index: -1, code: 'EINTERNAL', message: String(err) })
})
