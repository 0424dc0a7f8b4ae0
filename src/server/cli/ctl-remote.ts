/**
 * `paddock ctl --remote HOST:PORT [--remote ...] --token-file FILE [--ca-certs FILE] [--certfile C --keyfile K] COMMAND`:
 * the same commands over servers' TCP control endpoints. With several servers, `status` and
 * `workers` print one block per server, other commands one line per server, and
 * `reload --rolling` reloads them one after another:
 *
 *   for each server, in the order given:
 *     reload (answers once the new generation is ready and the old one drained, or rolled back)
 *     check: the new generation has ready workers and the server runs
 *     failed -> stop here: which server, why, which were reloaded and which not; exit 1
 *
 * so at most one server is between generations at any time, and the load balancer always
 * has the others serving.
 */
import fs from 'node:fs'
import type { ArbiterSnapshot } from '../../shared/protocol.js'
import { connectRemote, describeConnectError, parseRemote, readClientCert, readTokenFile, type RemoteTarget } from '../control/remote.js'
import { commandOf, CtlError, jsonOf, open, resultText, UsageError, watch, type CtlAction, type Reach } from './ctl.js'

interface RemoteFlags {
  remote: string[]
  'token-file'?: string[]
  'ca-certs'?: string
  certfile?: string
  keyfile?: string
  json?: boolean
  csv?: boolean
  rolling?: boolean
}

function reaches(flags: RemoteFlags): Reach[] {
  const files = flags['token-file'] ?? []
  if (files.length === 0) throw new UsageError('--remote needs --token-file FILE (the token the server reads from its --control-token-file)')
  if (files.length !== 1 && files.length !== flags.remote.length) {
    throw new UsageError(`give one --token-file for every server, or one for all: ${flags.remote.length} --remote, ${files.length} --token-file`)
  }
  let ca: Buffer | undefined
  if (flags['ca-certs']) {
    try {
      ca = fs.readFileSync(flags['ca-certs'])
    } catch (err) {
      throw new CtlError(`cannot read --ca-certs ${flags['ca-certs']}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
  }
  // one client certificate for every server given (endpoints started with --control-ca-certs require one)
  if (Boolean(flags.certfile) !== Boolean(flags.keyfile)) throw new UsageError('--certfile and --keyfile go together: the client certificate and its private key')
  let clientCert: { cert: Buffer; key: Buffer } | undefined
  if (flags.certfile && flags.keyfile) {
    try {
      clientCert = readClientCert(flags.certfile, flags.keyfile)
    } catch (err) {
      throw new CtlError((err as Error).message)
    }
  }
  return flags.remote.map((address, i) => {
    let target: RemoteTarget
    try {
      // a CA or a client certificate means TLS, for every server given
      target = parseRemote(address, Boolean(ca || clientCert))
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
    const file = files[files.length === 1 ? 0 : i]!
    let token: string
    try {
      token = readTokenFile(file)
    } catch (err) {
      throw new CtlError(`cannot read --token-file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    return {
      label: target.label,
      token,
      connect: () =>
        connectRemote(target, { ca, ...clientCert }).catch((err: NodeJS.ErrnoException) => {
          throw new CtlError(describeConnectError(target, err))
        }),
    }
  })
}

type Outcome = { ok: true; text: string; json: unknown } | { ok: false; error: string }

async function runOne(reach: Reach, what: Exclude<CtlAction, 'watch'>, csv = false): Promise<Outcome> {
  let session: Awaited<ReturnType<typeof open>> | undefined
  try {
    session = await open(reach)
    const res = await session.call(commandOf(what))
    if (!res.result.ok) return { ok: false, error: `${res.result.error.message} (${res.result.error.code})` }
    return { ok: true, text: resultText(what, res.result, csv), json: jsonOf(what, res.result.data) }
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) }
  } finally {
    session?.sock.destroy()
  }
}

export async function runRemote(what: CtlAction, flags: RemoteFlags): Promise<number> {
  const servers = reaches(flags)
  if (what === 'watch') {
    if (servers.length > 1) throw new UsageError('watch follows one server: give one --remote')
    return watch(servers[0]!)
  }
  if (typeof what === 'object' && 'cmd' in what && what.cmd === 'reload' && flags.rolling) return rollingReload(servers)
  if (servers.length === 1) {
    const r = await runOne(servers[0]!, what, flags.csv)
    if (!r.ok) throw new CtlError(r.error)
    process.stdout.write((flags.json ? JSON.stringify(r.json, null, 2) : r.text) + '\n')
    return 0
  }
  // several servers: all asked at once; printed in the order given
  const outcomes = await Promise.all(servers.map((s) => runOne(s, what, flags.csv)))
  let failed = 0
  if (flags.json) {
    const list = outcomes.map((o, i) => (o.ok ? { server: servers[i]!.label, ok: true, data: o.json } : { server: servers[i]!.label, ok: false, error: o.error }))
    process.stdout.write(JSON.stringify(list, null, 2) + '\n')
    failed = outcomes.filter((o) => !o.ok).length
  } else {
    const blocks = what === 'workers' || (typeof what === 'object' && ('export' in what || what.cmd === 'status' || what.cmd === 'config.get'))
    outcomes.forEach((o, i) => {
      const label = servers[i]!.label
      if (!o.ok) {
        failed++
        process.stderr.write(`paddock ctl: ${label}: ${o.error}\n`)
        if (blocks) process.stdout.write(`== ${label} ==\nunreachable or refused: ${o.error}\n\n`)
      } else if (blocks) process.stdout.write(`== ${label} ==\n${o.text}\n\n`)
      else process.stdout.write(`${label}: ${o.text}\n`)
    })
  }
  return failed ? 1 : 0
}

async function rollingReload(servers: Reach[]): Promise<number> {
  for (const [i, server] of servers.entries()) {
    const at = `${server.label} (${i + 1} of ${servers.length})`
    process.stdout.write(`${at}: reloading\n`)
    const r = await runOne(server, { cmd: 'reload' })
    const verdict = r.ok ? await servingCheck(server) : r.error
    if (verdict !== null) {
      const done = servers.slice(0, i).map((s) => s.label)
      const left = servers.slice(i + 1).map((s) => s.label)
      process.stderr.write(
        `paddock ctl: rolling reload stopped at ${at}: ${verdict}` +
          `${done.length ? `; reloaded: ${done.join(', ')}` : ''}${left.length ? `; not reloaded: ${left.join(', ')}` : ''}\n`,
      )
      return 1
    }
    process.stdout.write(`${at}: ${r.ok ? r.text : ''}\n`)
  }
  process.stdout.write(`rolling reload done: ${servers.length} server${servers.length === 1 ? '' : 's'}\n`)
  return 0
}

/**
 * null once the server runs with its new generation ready; else why not. Snapshots are
 * taken at 4 Hz, so the first one after the reload's answer may still say "reloading":
 * asked again for a while before it counts as a failure.
 */
async function servingCheck(server: Reach, waitMs = 15_000): Promise<string | null> {
  const deadline = Date.now() + waitMs
  for (;;) {
    const r = await runOne(server, { cmd: 'status' })
    if (!r.ok) return `reloaded, but then: ${r.error}`
    const s = r.json as ArbiterSnapshot
    const ready = s.workers.filter((w) => w.state === 'ready' && w.generation === s.generation).length
    if (s.state === 'running' && ready > 0) return null
    if (Date.now() > deadline) return `reloaded, but after ${waitMs / 1000} s the server is ${s.state} with ${ready} ready worker(s) of generation ${s.generation}`
    await new Promise((r) => setTimeout(r, 250))
  }
}
