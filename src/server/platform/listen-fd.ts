import type net from 'node:net'

/**
 * Listen on an inherited listening fd with the configured backlog. Calling listen() again on
 * a listening socket resets the kernel's queue length, and Node (20 and 22) reads `backlog`
 * from the options object only for host/port and path listens: with `{ fd }` it passes the
 * default 511 to listen(2), so `--backlog 2048` ended at 511 once a worker listened. The
 * backlog given as the second argument is honoured on every path.
 */
export function listenOnFd(server: net.Server, fd: number, backlog: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ fd, backlog }, backlog, () => {
      server.off('error', reject)
      resolve()
    })
  })
}
