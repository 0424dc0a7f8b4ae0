/**
 * `paddock ctl --remote` over a fleet of real servers on 127.0.0.2, 127.0.0.3, 127.0.0.4:
 * one block per server, a rolling reload under steady load that loses no request, and a
 * failing reload that stops the rollout where it failed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DEMO, runCli, sleep, steadyLoad, stopAll } from '../../helpers/proc.js'
import { startFleetServer, tokenFile, type FleetServer } from '../../helpers/fleet.js'
import { makeTestCa } from '../../helpers/tls.js'

afterEach(stopAll)

/** a self-contained app in its own file, so one server's copy can be broken */
function appFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'paddock-fleet-app-')), 'app.mjs')
  writeFileSync(file, "export default (req, res) => { setTimeout(() => res.end(JSON.stringify({ pid: process.pid, gen: process.env.PADDOCK_GENERATION })), 5) }\n")
  return file
}

const remotes = (servers: FleetServer[]) => servers.flatMap((s) => ['--remote', s.control])

async function generation(s: FleetServer): Promise<number> {
  const r = await runCli(['ctl', '--remote', s.control, '--token-file', s.tokenFile, 'status', '--json'])
  return (JSON.parse(r.stdout) as { generation: number }).generation
}

describe('paddock ctl --remote over several servers', () => {
  it('shows one block per server for status and workers, with each server\'s worker pids', async () => {
    const tok = tokenFile()
    const a = await startFleetServer('127.0.0.2', DEMO, { token: tok, workers: 1 })
    const b = await startFleetServer('127.0.0.3', DEMO, { token: tok, workers: 2 })
    const status = await runCli(['ctl', ...remotes([a, b]), '--token-file', tok.file, 'status'])
    expect(status.code).toBe(0)
    const blocks = status.stdout.trim().split(/\n\n/)
    expect(blocks).toHaveLength(2)
    expect(blocks[0]).toMatch(new RegExp(`^== ${a.control} ==\\n.*pid ${a.paddock.pid}`))
    expect(blocks[0]).toMatch(/workers 1\/1/)
    expect(blocks[1]).toMatch(new RegExp(`^== ${b.control} ==\\n.*pid ${b.paddock.pid}`))
    expect(blocks[1]).toMatch(/workers 2\/2/)

    const workers = await runCli(['ctl', ...remotes([a, b]), '--token-file', tok.file, 'workers', '--json'])
    const list = JSON.parse(workers.stdout) as { server: string; ok: boolean; data: { pid: number }[] }[]
    expect(list.map((x) => [x.server, x.data.length])).toEqual([[a.control, 1], [b.control, 2]])

    // a server that is down is named, the others still shown, and the exit is non-zero
    const down = await runCli(['ctl', ...remotes([a]), '--remote', '127.0.0.3:1', '--token-file', tok.file, 'status'])
    expect(down.code).toBe(1)
    expect(down.stdout).toMatch(new RegExp(`== ${a.control} ==`))
    expect(down.stderr).toMatch(/127\.0\.0\.3:1: cannot connect to 127\.0\.0\.3:1: connection refused/)
  })

  it('reload --rolling reloads the servers one after another under steady load, and no request fails', async () => {
    const tok = tokenFile()
    const servers = [await startFleetServer('127.0.0.2', appFile(), { token: tok }), await startFleetServer('127.0.0.3', appFile(), { token: tok })]
    const loads = servers.map((s) => steadyLoad(s.port, '/', 3, undefined, s.host))
    await sleep(500)
    const r = await runCli(['ctl', ...remotes(servers), '--token-file', tok.file, 'reload', '--rolling'], { timeoutMs: 60_000 })
    await sleep(300)
    const results = await Promise.all(loads.map((l) => l.stop()))
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const lines = r.stdout.trim().split('\n')
    // strictly one server at a time: each reloading line is followed by its own result
    expect(lines).toEqual([
      `${servers[0]!.control} (1 of 2): reloading`,
      expect.stringMatching(new RegExp(`^${servers[0]!.control} \\(1 of 2\\): generation 2 serving`)),
      `${servers[1]!.control} (2 of 2): reloading`,
      expect.stringMatching(new RegExp(`^${servers[1]!.control} \\(2 of 2\\): generation 2 serving`)),
      'rolling reload done: 2 servers',
    ])
    for (const res of results) {
      expect(res.errors).toEqual([])
      expect(res.failed).toBe(0)
      expect(res.ok).toBeGreaterThan(20)
    }
    for (const s of servers) expect(await generation(s)).toBe(2)
  })

  it('stops the rollout at a server whose reload fails, says which and why, and leaves the rest alone', async () => {
    const tok = tokenFile()
    const broken = appFile()
    const servers = [
      await startFleetServer('127.0.0.2', appFile(), { token: tok, workers: 1 }),
      await startFleetServer('127.0.0.3', broken, { token: tok, workers: 1 }),
      await startFleetServer('127.0.0.4', appFile(), { token: tok, workers: 1 }),
    ]
    writeFileSync(broken, 'throw new Error("broken deploy")\n')
    const r = await runCli(['ctl', ...remotes(servers), '--token-file', tok.file, 'reload', '--rolling'], { timeoutMs: 60_000 })
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(new RegExp(`rolling reload stopped at ${servers[1]!.control} \\(2 of 3\\): .*broken deploy.*PADDOCK_ERR_BOOT`))
    expect(r.stderr).toMatch(new RegExp(`reloaded: ${servers[0]!.control}; not reloaded: ${servers[2]!.control}$`, 'm'))
    expect(r.stdout).not.toMatch(/127\.0\.0\.4.*reloading/)
    expect(await generation(servers[0]!)).toBe(2)
    // the failed server's old generation keeps serving; the third was never asked
    expect(await generation(servers[1]!)).toBe(1)
    expect(await generation(servers[2]!)).toBe(1)
  })
})

describe('paddock ctl --remote usage', () => {
  it('says what is missing or mismatched, exit 2, before connecting anywhere', async () => {
    const tok = tokenFile()
    const cases: [string[], RegExp][] = [
      [['--remote', '127.0.0.2:9400', 'status'], /--remote needs --token-file FILE/],
      [['--remote', '127.0.0.2:9400', '--remote', '127.0.0.3:9400', '--token-file', tok.file, '--token-file', tok.file, '--token-file', tok.file, 'status'], /one --token-file for every server, or one for all: 2 --remote, 3 --token-file/],
      [['--remote', '127.0.0.2:9400', '--socket', '/tmp/x.sock', '--token-file', tok.file, 'status'], /give no --socket or --name with it/],
      [['--token-file', tok.file, 'status'], /--token-file, --ca-certs, --certfile and --keyfile go with --remote/],
      [['--certfile', tok.file, '--keyfile', tok.file, 'status'], /--certfile and --keyfile go with --remote/],
      [['--remote', 'tls://127.0.0.2:9400', '--token-file', tok.file, '--certfile', tok.file, 'status'], /--certfile and --keyfile go together/],
      [['--remote', 'nohostport', '--token-file', tok.file, 'status'], /"nohostport" is not HOST:PORT/],
      [['--remote', '127.0.0.2:9400', '--remote', '127.0.0.3:9400', '--token-file', tok.file, 'watch'], /watch follows one server/],
      [['--remote', '127.0.0.2:9400', '--token-file', tok.file, 'status', '--rolling'], /"status" takes no --rolling/],
    ]
    for (const [args, re] of cases) {
      const r = await runCli(['ctl', ...args])
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr.split('\n')[0]).toMatch(re)
    }
  })
})

describe('paddock dashboard --fleet-certfile/--fleet-keyfile', () => {
  it('wants both, belonging together, and says so before serving anything (exit 2)', async () => {
    const ca = makeTestCa(['127.0.0.2'])
    const other = makeTestCa(['127.0.0.2'])
    const half = await runCli(['dashboard', '--fleet-certfile', ca.clientCert])
    expect(half.code).toBe(2)
    expect(half.stderr).toMatch(/--fleet-certfile and --fleet-keyfile go together/)
    const mismatched = await runCli(['dashboard', '--fleet-certfile', ca.clientCert, '--fleet-keyfile', other.clientKey])
    expect(mismatched.code).toBe(2)
    expect(mismatched.stderr).toMatch(/do not go together/)
    expect(mismatched.stdout).not.toMatch(/paddock dashboard:/)
  })
})
