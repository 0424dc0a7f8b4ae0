import { afterEach, describe, expect, it } from 'vitest'
import net from 'node:net'
import { join } from 'node:path'
import { DEMO, FIXTURES, runCli, stopAll } from '../../helpers/proc.js'

afterEach(stopAll)

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^paddock: /)
  return lines[0]
}

describe('paddock CLI errors', () => {
  it('an unknown option gives one clear line and exit 2', async () => {
    const r = await runCli(['--no-such-option', DEMO])
    expect(r.code).toBe(2)
    expect(oneLine(r.stderr)).toMatch(/unrecognized option '--no-such-option'/)
  })

  it('a bad value names the option and the reason', async () => {
    const r = await runCli(['-w', 'many', DEMO])
    expect(r.code).toBe(2)
    expect(oneLine(r.stderr)).toMatch(/--workers.*"many".*not a number/)
    const k = await runCli(['-k', 'threads', DEMO])
    expect(oneLine(k.stderr)).toMatch(/--worker-class.*expected one of sync, gthread, async/)
  })

  it('a missing module is named', async () => {
    const r = await runCli(['-b', '127.0.0.1:0', './no/such/app.mjs'])
    expect(r.code).not.toBe(0)
    expect(oneLine(r.stderr)).toMatch(/app module not found: \.\/no\/such\/app\.mjs/)
  })

  it('a module that throws on import fails fast with its error', async () => {
    const r = await runCli(['-b', '127.0.0.1:0', '--no-control-socket', '--preload', join(FIXTURES, 'apps/throws-on-import.mjs')])
    expect(r.code).toBe(4)
    expect(oneLine(r.stderr)).toMatch(/failed to load: this app is broken on purpose/)
  })

  it('a module that throws on import fails fast without --preload too', async () => {
    const r = await runCli(['-b', '127.0.0.1:0', '--no-control-socket', join(FIXTURES, 'apps/throws-on-import.mjs')])
    expect(r.code).toBe(4)
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^paddock: boot failed: .*this app is broken on purpose/)
  })

  it('an export that is not an app says what is accepted', async () => {
    const r = await runCli(['--check-config', join(FIXTURES, 'apps/not-an-app.mjs')])
    expect(r.code).toBe(4)
    expect(oneLine(r.stderr)).toMatch(/is not an app: got number/)
  })

  it('a port in use gives one line naming the address and the reason', async () => {
    const blocker = net.createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()))
    const port = (blocker.address() as net.AddressInfo).port
    try {
      const r = await runCli(['-b', `127.0.0.1:${port}`, '--no-control-socket', DEMO])
      expect(r.code).not.toBe(0)
      expect(oneLine(r.stderr)).toBe(`paddock: cannot listen at 127.0.0.1:${port}: address already in use (EADDRINUSE)`)
    } finally {
      blocker.close()
    }
  })

  it('--help lists every option with its default', async () => {
    const r = await runCli(['--help'])
    expect(r.code).toBe(0)
    for (const flag of ['--bind', '--workers', '--worker-class', '--threads', '--timeout', '--graceful-timeout', '--max-requests', '--keep-alive', '--access-logformat', '--preload']) expect(r.stdout).toContain(flag)
    expect(r.stdout).toMatch(/--backlog INT.*\[default: 2048\]/)
  })
})
