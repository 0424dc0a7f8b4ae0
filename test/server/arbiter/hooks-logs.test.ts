import { afterEach, describe, expect, it } from 'vitest'
import http from 'node:http'
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEMO, get, sleep, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'

afterEach(stopAll)

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'paddock-hl-'))
}

describe('hooks and logs', () => {
  it('runs master and worker hooks, and a hook that throws is logged without crashing anything', async () => {
    const dir = tmp()
    const trace = join(dir, 'trace.txt')
    writeFileSync(
      join(dir, 'paddock.config.mjs'),
      `import { appendFileSync } from 'node:fs'
const note = (what) => appendFileSync(${JSON.stringify(trace)}, what + ' ' + process.pid + '\\n')
export default {
  on_starting: () => note('on_starting'),
  when_ready: () => note('when_ready'),
  pre_fork: () => note('pre_fork'),
  post_fork: () => note('post_fork'),
  post_worker_init: () => note('post_worker_init'),
  pre_request: (req) => note('pre_request ' + req.url),
  post_request: () => { throw new Error('post_request hook is broken') },
  nworkers_changed: (server, n, old) => note('nworkers_changed ' + old + '->' + n),
}
`,
    )
    const p = await startPaddock(['-w', '1', DEMO], { cwd: dir })
    const [worker] = await waitForWorkers(p, 1)
    expect((await get(p.port, '/hello-hooks')).status).toBe(404)
    expect((await get(p.port, '/')).status).toBe(200)
    process.kill(p.pid, 'SIGTTIN')
    await waitForWorkers(p, 2)
    await p.waitFor(/hook post_request raised: post_request hook is broken/)
    const lines = readFileSync(trace, 'utf8').trim().split('\n')
    const where = (name: string) => lines.filter((l) => l.startsWith(name + ' ')).map((l) => Number(l.split(' ').at(-1)))
    expect(where('on_starting')).toEqual([p.pid])
    expect(where('when_ready')).toEqual([p.pid])
    expect(where('pre_fork')[0]).toBe(p.pid)
    expect(where('post_fork')).toContain(worker)
    expect(where('post_worker_init')).toContain(worker)
    expect(lines).toContain(`pre_request /hello-hooks ${worker}`)
    expect(lines.some((l) => l.startsWith('nworkers_changed 1->2'))).toBe(true)
  })

  it('writes the access log with Gunicorn atoms and reopens it on USR1', async () => {
    const dir = tmp()
    const log = join(dir, 'access.log')
    const p = await startPaddock(['-w', '1', '--access-logfile', log, '--access-logformat', '%(h)s "%(r)s" %(s)s %(b)s %(m)s %(U)s %(q)s "%(a)s" %({x-trace}i)s %(p)s', DEMO])
    const [worker] = await waitForWorkers(p, 1)
    await get(p.port, '/echo?x=1', { headers: { 'User-Agent': 'tester "quoted"', 'X-Trace': 'abc' } })
    await sleep(200)
    const first = readFileSync(log, 'utf8').trim()
    expect(first).toMatch(new RegExp(`^127\\.0\\.0\\.1 "GET /echo\\?x=1 HTTP/1\\.1" 200 \\d+ GET /echo x=1 "tester \\\\"quoted\\\\"" abc <${worker}>$`))
    renameSync(log, log + '.1')
    process.kill(p.pid, 'SIGUSR1')
    await p.waitFor(/Reopened log files/)
    await sleep(200)
    await get(p.port, '/')
    await sleep(200)
    expect(existsSync(log)).toBe(true)
    expect(readFileSync(log, 'utf8')).toMatch(/"GET \/ HTTP\/1\.1" 200 19 /)
  })

  it('listens on a unix socket', async () => {
    const dir = tmp()
    const sock = join(dir, 'app.sock')
    const p = await startPaddock(['-b', '127.0.0.1:0', '-b', `unix:${sock}`, '--no-control-socket', '-w', '1', DEMO], { bind: false })
    await waitForWorkers(p, 1)
    const body = await new Promise<string>((resolve, reject) => {
      http.get({ socketPath: sock, path: '/' }, (res) => {
        let b = ''
        res.on('data', (d) => (b += d))
        res.on('end', () => resolve(b))
      }).on('error', reject)
    })
    expect(body).toBe('Hello from paddock\n')
  })
})

describe('bind forms', () => {
  it('listens on [::1]:PORT', async () => {
    const p = await startPaddock(['-b', '[::1]:0', '--no-control-socket', '-w', '1', DEMO], { bind: false })
    await waitForWorkers(p, 1)
    expect(p.output()).toMatch(/Listening at: http:\/\/\[::1\]:\d+/)
    const body = await new Promise<string>((resolve, reject) => {
      http.get({ host: '::1', port: p.port, path: '/' }, (res) => {
        let b = ''
        res.on('data', (d) => (b += d))
        res.on('end', () => resolve(b))
      }).on('error', reject)
    })
    expect(body).toBe('Hello from paddock\n')
  })

  it('serves on an inherited listening fd (fd://N)', async () => {
    const { spawn } = await import('node:child_process')
    const net = await import('node:net')
    // A parent that owns the socket and hands it to paddock as fd 3, as systemd would.
    const holder = net.createServer()
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()))
    const port = (holder.address() as import('node:net').AddressInfo).port
    const fd = (holder as unknown as { _handle: { fd: number } })._handle.fd
    const { CLI } = await import('../../helpers/proc.js')
    const child = spawn(process.execPath, [CLI, '-b', 'fd://3', '--no-control-socket', '-w', '1', DEMO], { stdio: ['ignore', 'pipe', 'pipe', fd] })
    try {
      let out = ''
      child.stderr!.on('data', (d) => (out += d))
      const deadline = Date.now() + 15_000
      while (!/Booting worker/.test(out) && Date.now() < deadline) await sleep(100)
      await sleep(800)
      holder.close()
      expect((await get(port, '/')).body).toBe('Hello from paddock\n')
    } finally {
      const kids = (await import('../../helpers/proc.js')).childPids(child.pid!)
      child.kill('SIGKILL')
      for (const k of kids) {
        try {
          process.kill(k, 'SIGKILL')
        } catch {}
      }
    }
  })
})
