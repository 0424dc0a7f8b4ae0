import { fork, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const CLI = join(ROOT, 'bin/paddock.mjs')
const SERVER = fileURLToPath(new URL('./counting-server.mjs', import.meta.url))
const children: ChildProcess[] = []
let dir: string | null = null

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  if (dir) rmSync(dir, { recursive: true, force: true })
  dir = null
})

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'load', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d) => (stdout += d))
  child.stderr!.on('data', (d) => (stderr += d))
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })))
}

async function startServer(): Promise<{ server: ChildProcess; port: number }> {
  const server = fork(SERVER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  children.push(server)
  const [{ port }] = (await once(server, 'message')) as [{ port: number }]
  return { server, port }
}

async function served(server: ChildProcess): Promise<number> {
  server.send('count')
  const [{ count }] = (await once(server, 'message')) as [{ count: number }]
  return count
}

/** A port nothing listens on: bound by the kernel, then closed. */
async function deadPort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as net.AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}

describe('paddock load', () => {
  it('prints a summary and writes JSON and SVG', async () => {
    const { port } = await startServer()
    dir = mkdtempSync(join(tmpdir(), 'paddock-load-'))
    const json = join(dir, 'r.json')
    const svg = join(dir, 'r.svg')
    const r = await cli([`http://127.0.0.1:${port}/`, '-c', '2', '-n', '200', '--json', json, '--svg', svg])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/requests\s+200/)
    expect(r.stdout).toMatch(/latency p99/)
    expect(r.stdout).toMatch(/status 200\s+200/)
    expect(JSON.parse(readFileSync(json, 'utf8')).requests).toBe(200)
    expect(existsSync(svg) && readFileSync(svg, 'utf8').startsWith('<svg')).toBe(true)
  })

  it.each([[['notaurl']], [['nope']], [['localhost:8000/']], [['http://127.0.0.1:9/', '--fail-on', 'p99>']], [['http://127.0.0.1:9/', '--warmup', 'soon']], [['http://127.0.0.1:9/', '--bogus']], [['http://127.0.0.1:9/', '-c', '0']], [['http://127.0.0.1:9/', '-d', '1', '-n', '5']]])(
    'bad input %j -> one line, exit 2',
    async (args) => {
      const r = await cli(args)
      expect(r.code).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(/^paddock load: /)
    },
  )

  it('a target that is not a URL is explained at once', async () => {
    const r = await cli(['nope'])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('paddock load: "nope" is not a URL: write a full URL such as http://127.0.0.1:8000/nope\n')
  })

  it('a run in which every request failed exits 1 and names the cause', async () => {
    const port = await deadPort()
    const r = await cli([`http://127.0.0.1:${port}/`, '-c', '2', '-d', '0.5'])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/errors refused\s+[1-9]/)
    expect(r.stdout).toMatch(/errors by cause:\n\s+\d+\s+ECONNREFUSED: connection refused/)
    expect(r.stdout).not.toMatch(/errors other\s+[1-9]/)
    expect(r.stderr).toMatch(/every request failed/)
  })

  it('answers that are all 404 are a failed run too', async () => {
    const { port } = await startServer()
    const r = await cli([`http://127.0.0.1:${port}/nope`, '-c', '2', '-n', '20'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/every request failed: .*20 × 404/)
  })

  it('--fail-on exits 3 naming the condition that held, and 0 when none did', async () => {
    const { port } = await startServer()
    const crossed = await cli([`http://127.0.0.1:${port}/io?ms=30`, '-c', '2', '-n', '20', '--fail-on', 'p50>1ms,errors>1%'])
    expect(crossed.code).toBe(3)
    expect(crossed.stderr).toMatch(/--fail-on p50>1ms crossed: p50 was \d+(\.\d+)? ms \(fails when > 1 ms\)/)
    expect(crossed.stderr).not.toMatch(/errors>1% crossed/)
    const fine = await cli([`http://127.0.0.1:${port}/`, '-c', '2', '-n', '20', '--fail-on', 'p50>60s,errors>1%'])
    expect(fine.code).toBe(0)
  })

  it('--warmup sends requests it does not count', async () => {
    const { server, port } = await startServer()
    dir = mkdtempSync(join(tmpdir(), 'paddock-load-'))
    const json = join(dir, 'r.json')
    const r = await cli([`http://127.0.0.1:${port}/io?ms=5`, '-c', '2', '-n', '50', '--warmup', '500ms', '--json', json])
    expect(r.code).toBe(0)
    const result = JSON.parse(readFileSync(json, 'utf8'))
    expect(result.requests).toBe(50)
    // 2 connections at ~5 ms each for 0.5 s: dozens of warm-up requests reached the server
    expect(await served(server)).toBeGreaterThan(50 + 20)
  })

  it('an open loop the server cannot keep up with shows its queueing delay and the shortfall', async () => {
    // /block?ms=10 holds the single-threaded server 10 ms: at most ~100 req/s, asked for 200
    const { port } = await startServer()
    dir = mkdtempSync(join(tmpdir(), 'paddock-load-'))
    const json = join(dir, 'r.json')
    const r = await cli([`http://127.0.0.1:${port}/block?ms=10`, '-c', '10', '-r', '200', '-d', '2', '--json', json])
    expect(r.code).toBe(0)
    const result = JSON.parse(readFileSync(json, 'utf8'))
    expect(result.latencyFrom).toBe('intended')
    expect(result.requests).toBeLessThan(0.75 * 200 * 2)
    // Timed from each write, 10 connections on a 10 ms server read ~100 ms (the issue saw
    // p99 125 ms). Due at start + k/200, the queue grows all run: the last answers waited
    // ~1 s. 40x the service time is far above either closed-loop figure.
    expect(result.latency.p99).toBeGreaterThan(400)
    expect(r.stdout).toMatch(/target req\/s\s+200/)
    expect(r.stderr).toMatch(/warning: achieved \d+(\.\d)? req\/s of the 200 req\/s target/)
  })
})
