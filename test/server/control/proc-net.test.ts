import net from 'node:net'
import { readFile } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { parseProcNetTcp, readListenQueues, readListening } from '../../../src/server/control/proc-net.js'
import { spawn, type ChildProcess } from 'node:child_process'

const linux = process.platform === 'linux'
const opened: (net.Server | net.Socket)[] = []
const children: ChildProcess[] = []
afterEach(() => {
  for (const o of opened.splice(0)) o instanceof net.Socket ? o.destroy() : o.close()
  for (const c of children.splice(0)) process.kill(c.pid!, 'SIGKILL')
})

/** A process that listens, says its port, then blocks its loop: the kernel queues what arrives. */
function busyListener(): Promise<number> {
  const src = `require('net').createServer().listen(0, '127.0.0.1', function () { console.log(this.address().port); setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30000), 50) })`
  const child = spawn(process.execPath, ['-e', src], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d) => setTimeout(() => resolve(Number(String(d).trim())), 200))
    child.once('error', reject)
  })
}

async function listener(): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer()
  opened.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { server, port: (server.address() as net.AddressInfo).port }
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1', () => resolve(c)).on('error', reject)
    opened.push(c)
  })
}

describe('listen queue depth from /proc/net/tcp', () => {
  it('takes the listening sockets at the head of the table and stops at the first other one', () => {
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1F40 00000000:0000 0A 00000000:00000003 00:00000000 00000000  1000        0 1 1 0 100 0 0 10 0',
      '   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0',
      '   2: 0100007F:1F40 0100007F:D2F0 06 00000000:00000000 03:00000EE4 00000000     0        0 0 3 0',
      // not a listener the kernel would print here: proves nothing past the first other socket is read
      '   3: 0100007F:2710 00000000:0000 0A 00000000:00000009 00:00000000 00000000  1000        0 3 1 0 100 0 0 10 0',
    ].join('\n')
    expect(parseProcNetTcp(text)).toEqual([
      { port: 8000, queue: 3 },
      { port: 80, queue: 0 },
    ])
  })

  it.skipIf(!linux)('counts the connections a listener has not accepted yet', async () => {
    const port = await busyListener()
    for (let i = 0; i < 3; i++) await connect(port)
    expect((await readListenQueues()).get(port)).toBe(3)
  })

  it.skipIf(!linux)('reads only the head of the table, however many other sockets it holds', async () => {
    const { port } = await listener()
    const clients = await Promise.all(Array.from({ length: 300 }, () => connect(port)))
    expect(clients).toHaveLength(300)
    // 600 established sockets (both ends) at about 150 bytes a line: the whole table is larger
    const whole = (await readFile('/proc/net/tcp', 'latin1')).length
    const head = await readListening('/proc/net/tcp')
    expect(head.listening.some((q) => q.port === port)).toBe(true)
    expect(whole).toBeGreaterThan(80_000)
    expect(head.bytesRead).toBeLessThan(whole / 2)
  })
})
