import { afterEach, describe, expect, it } from 'vitest'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEMO, runCli, stopAll } from '../../helpers/proc.js'

afterEach(stopAll)

function configDir(body: string, name = 'paddock.config.mjs'): string {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-cfg-'))
  writeFileSync(join(dir, name), body)
  return dir
}

describe('configuration precedence: defaults < config file < PADDOCK_CMD_ARGS < command line', () => {
  it('each layer overrides the one before it', async () => {
    const dir = configDir(`export default { workers: 3, timeout: 40, keepalive: 7, backlog: 100 }`)
    const r = await runCli(['--print-config', '-t', '50', DEMO], { cwd: dir, env: { PADDOCK_CMD_ARGS: '--timeout 45 --keep-alive 9' } })
    expect(r.code).toBe(0)
    const printed = JSON.parse(r.stdout)
    expect(printed.settings.workers).toBe(3)
    expect(printed.sources.workers).toBe('config')
    expect(printed.settings.keepalive).toBe(9)
    expect(printed.sources.keepalive).toBe('env')
    expect(printed.settings.timeout).toBe(50)
    expect(printed.sources.timeout).toBe('cli')
    expect(printed.settings.graceful_timeout).toBe(30)
    expect(printed.sources.graceful_timeout).toBe('default')
  })

  it('a TypeScript config file is loaded', async () => {
    const dir = configDir(`const workers: number = 5\nexport default { workers }\n`, 'paddock.config.ts')
    const r = await runCli(['--print-config', DEMO], { cwd: dir })
    expect(JSON.parse(r.stdout).settings.workers).toBe(5)
  })

  it('an unknown key in the config file is an error naming it', async () => {
    const dir = configDir(`export default { wokers: 3 }`)
    const r = await runCli(['--print-config', DEMO], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/unknown setting "wokers"/)
  })

  it('gevent is an alias of async and sync with threads means gthread', async () => {
    const a = JSON.parse((await runCli(['--print-config', '-k', 'gevent', DEMO])).stdout)
    expect(a.settings.worker_class).toBe('async')
    const g = JSON.parse((await runCli(['--print-config', '--threads', '4', DEMO])).stdout)
    expect(g.settings.worker_class).toBe('gthread')
  })

  it('--check-config loads the app and says it is valid', async () => {
    const r = await runCli(['--check-config', DEMO])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/valid/)
  })

  it('WEB_CONCURRENCY and PORT set the defaults', async () => {
    const r = await runCli(['--print-config', DEMO], { env: { WEB_CONCURRENCY: '6', PORT: '9123' } })
    const printed = JSON.parse(r.stdout)
    expect(printed.settings.workers).toBe(6)
    expect(printed.settings.bind).toEqual(['0.0.0.0:9123'])
  })
})
