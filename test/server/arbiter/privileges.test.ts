/**
 * --user / --group / --umask / --initgroups: the master stays root (it binds and keeps the
 * control socket), the workers and their threads run as `nobody`. Runs as root (as on the
 * build machines); skipped otherwise, apart from the start-up refusal of an unknown user.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FIXTURES, get, runCli, sleep, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'
import { until, workerPids } from '../../helpers/browser.js'

afterEach(stopAll)

const root = process.getuid?.() === 0
const NOBODY = 65534

function uidsOf(pid: number): { uid: number; gid: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return { uid: Number(/^Uid:\s+(\d+)/m.exec(status)![1]), gid: Number(/^Gid:\s+(\d+)/m.exec(status)![1]) }
}

describe('privileges', () => {
  it('an unknown user or group fails at start with one line and exit 2', async () => {
    const user = await runCli(['--user', 'no-such-user-paddock', join(FIXTURES, 'apps/identity.mjs')])
    expect(user.code).toBe(2)
    expect(user.stderr).toBe('paddock: --user no-such-user-paddock: no such user\n')
    const group = await runCli(['--group', 'no-such-group-paddock', join(FIXTURES, 'apps/identity.mjs')])
    expect(group.code).toBe(2)
    expect(group.stderr).toBe('paddock: --group no-such-group-paddock: no such group\n')
    const umask = await runCli(['--umask', '999', join(FIXTURES, 'apps/identity.mjs')])
    expect(umask.code).toBe(2)
  })

  for (const [workerClass, extra] of [['sync', []], ['gthread', ['--threads', '2']]] as const) {
    it.runIf(root)(`${workerClass}: as root, workers run as nobody; the master, its control socket and the access log stay usable`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'paddock-priv-'))
      chmodSync(dir, 0o755)
      const accessLog = join(dir, 'access.log')
      const sock = join(dir, 'ctl.sock')
      const p = await startPaddock(
        ['-b', '127.0.0.1:0', '--control-socket', sock, '-w', '2', '-k', workerClass, ...extra, '--user', 'nobody', '--group', 'nogroup', '--umask', '027', '--access-logfile', accessLog, join(FIXTURES, 'apps/identity.mjs')],
        { bind: false },
      )
      // the control plane's own helpers (ps and the like) are children too: only the workers,
      // once both have booted (a worker just forked is root until its first lines run)
      const workers = (await until(() => {
        const pids = workerPids(p.pid)
        return pids.length === 2 && pids.every((pid) => uidsOf(pid).uid === NOBODY) ? pids : null
      }, 15_000, 'two workers running as nobody')).value!
      expect(uidsOf(p.pid)).toEqual({ uid: 0, gid: 0 })
      for (const pid of workers) expect(uidsOf(pid)).toEqual({ uid: NOBODY, gid: NOBODY })
      const seen = new Set<number>()
      for (let i = 0; i < 6; i++) {
        const r = await get(p.port, '/')
        expect(r.status).toBe(200)
        const me = JSON.parse(r.body)
        expect(me).toMatchObject({ uid: NOBODY, gid: NOBODY, groups: [NOBODY], fileMode: 0o640 })
        if (workerClass === 'gthread') expect(me.threadId).toBeGreaterThan(0)
        seen.add(me.pid)
      }
      await sleep(200)
      // the workers write the access log the master created for them
      expect(statSync(accessLog).uid).toBe(NOBODY)
      expect(readFileSync(accessLog, 'utf8').trim().split('\n')).toHaveLength(6)
      // the control socket is the master's (root's) and answers
      const status = await runCli(['ctl', '--socket', sock, 'workers', '--json'])
      expect(status.code).toBe(0)
      expect((JSON.parse(status.stdout) as { pid: number }[]).map((w) => w.pid).sort()).toEqual([...workers].sort())
    })
  }

  // a user that /etc/group lists as a member of some group (supplementary groups to find)
  const member = (() => {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const [, , gid, members] = line.split(':')
      const user = members?.split(',')[0]
      if (user) return { user, gid: Number(gid) }
    }
    return null
  })()

  it.runIf(root && member)("--initgroups gives the workers the user's supplementary groups, and without it they have only their own", async () => {
    const app = join(FIXTURES, 'apps/identity.mjs')
    const withGroups = await startPaddock(['-w', '1', '--user', member!.user, '--initgroups', app])
    await waitForWorkers(withGroups, 1)
    expect(JSON.parse((await get(withGroups.port, '/')).body).groups).toContain(member!.gid)
    const without = await startPaddock(['-w', '1', '--user', member!.user, app])
    await waitForWorkers(without, 1)
    const me = JSON.parse((await get(without.port, '/')).body)
    expect(me.groups).toEqual([me.gid])
  })
})
