import { fork, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

const ROOT = new URL('../../..', import.meta.url).pathname
const CLI = join(ROOT, 'bin/paddock.mjs')
const SERVER = new URL('./counting-server.mjs', import.meta.url).pathname
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

describe('paddock load', () => {
  it('prints a summary and writes JSON and SVG', async () => {
    const server = fork(SERVER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    children.push(server)
    const [{ port }] = (await once(server, 'message')) as [{ port: number }]
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

  it.each([[['notaurl']], [['http://127.0.0.1:9/', '--bogus']], [['http://127.0.0.1:9/', '-c', '0']], [['http://127.0.0.1:9/', '-d', '1', '-n', '5']]])(
    'bad input %j -> one line, exit 2',
    async (args) => {
      const r = await cli(args)
      expect(r.code).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(/^paddock load: /)
    },
  )
})
