/**
 * Who the workers run as (Gunicorn's --user, --group, --umask, --initgroups). The master
 * stays who it was started as (root, so it can bind ports below 1024 and keep the control
 * socket and log files it opened); each worker drops to the user and group at its start,
 * before it loads anything of the app or the config file, and its threads with it (a
 * process's credentials are every thread's).
 *
 * Names are looked up in /etc/passwd and /etc/group, then through `getent` (NSS: LDAP,
 * systemd's dynamic users) when those files do not know them; numbers are taken as given.
 */
import { chownSync, closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { PaddockError } from '../errors.js'

export interface WorkerIdentity {
  uid: number
  gid: number
  /** for initgroups: the user name (or the uid when the user has no name) */
  user: string | number
  initgroups: boolean
}

interface Entry {
  name: string
  id: number
  /** passwd: the user's primary group */
  gid?: number
}

function parse(text: string, kind: 'passwd' | 'group'): Entry[] {
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 3 && f[0] && !f[0].startsWith('#'))
    .map((f) => ({ name: f[0]!, id: Number(f[2]), ...(kind === 'passwd' ? { gid: Number(f[3]) } : {}) }))
}

function lookup(kind: 'passwd' | 'group', key: string): Entry | null {
  const byName = (e: Entry) => (/^\d+$/.test(key) ? e.id === Number(key) : e.name === key)
  try {
    const found = parse(readFileSync(`/etc/${kind}`, 'utf8'), kind).find(byName)
    if (found) return found
  } catch {
    // no such file (macOS keeps users in Directory Services): ask getent below
  }
  try {
    const line = execFileSync('getent', [kind, key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim()
    return parse(line, kind)[0] ?? null
  } catch {
    return null
  }
}

/** An octal umask as written in a config (`027`, `0o027`, `0027`) or a number. */
export function parseUmask(value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0o777) return value
  const m = /^(?:0o?)?([0-7]{1,3})$/i.exec(String(value).trim())
  if (!m) throw new PaddockError('PADDOCK_ERR_CONFIG', `--umask ${String(value)}: expected an octal mode such as 027 or 0o027`)
  return parseInt(m[1]!, 8)
}

/**
 * The workers' identity from the settings, or null when neither --user nor --group is set.
 * An unknown user or group, or a switch the master cannot make (not root), is a
 * PADDOCK_ERR_CONFIG at start: one line, exit 2.
 */
export function workerIdentity(settings: Record<string, unknown>, euid = process.geteuid?.() ?? 0): WorkerIdentity | null {
  const user = settings.user == null || settings.user === '' ? null : String(settings.user)
  const group = settings.group == null || settings.group === '' ? null : String(settings.group)
  if (user === null && group === null) return null
  let uid = euid
  let gid = process.getegid?.() ?? 0
  let name: string | number = uid
  if (user !== null) {
    const u = lookup('passwd', user)
    if (!u && !/^\d+$/.test(user)) throw new PaddockError('PADDOCK_ERR_CONFIG', `--user ${user}: no such user`)
    uid = u?.id ?? Number(user)
    name = u?.name ?? uid
    // the user's own primary group unless --group says otherwise (as su and systemd do), not root's
    if (u?.gid !== undefined) gid = u.gid
  }
  if (group !== null) {
    const g = lookup('group', group)
    if (!g && !/^\d+$/.test(group)) throw new PaddockError('PADDOCK_ERR_CONFIG', `--group ${group}: no such group`)
    gid = g?.id ?? Number(group)
  }
  if (euid !== 0 && (uid !== euid || gid !== (process.getegid?.() ?? gid))) {
    throw new PaddockError('PADDOCK_ERR_CONFIG', `--user/--group: switching workers to uid ${uid} gid ${gid} needs the master to run as root (it runs as uid ${euid})`)
  }
  return { uid, gid, user: name, initgroups: settings.initgroups === true }
}

/**
 * In the worker, first thing: umask, then groups, group, user (in that order: after
 * setuid the others are no longer allowed).
 */
export function dropPrivileges(identity: WorkerIdentity | null, umask: number | null): void {
  if (umask !== null) process.umask(umask)
  if (!identity) return
  if (identity.initgroups && typeof identity.user === 'string') (process as NodeJS.Process & { initgroups(user: string, extraGroup: number): void }).initgroups(identity.user, identity.gid)
  else process.setgroups!([identity.gid])
  process.setgid!(identity.gid)
  process.setuid!(identity.uid)
}

/**
 * A file the workers write themselves (the access log): created by the master if missing
 * and given to the workers' user, so that they can open it, and open it again after
 * logrotate on USR1. The error log stays the master's (workers send it their lines).
 */
export function handToWorkers(path: string | null | undefined, identity: WorkerIdentity | null): void {
  if (!identity || !path || path === '-') return
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o640))
  chownSync(path, identity.uid, identity.gid)
}
