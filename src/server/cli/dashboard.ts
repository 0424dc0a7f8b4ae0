/**
 * `paddock dashboard [OPTIONS] [MODULE]`: host an arbiter in-process and serve the browser UI;
 * `paddock dashboard --attach SOCKET`: serve the UI for an arbiter started elsewhere.
 * --port N chooses the dashboard port (default: ephemeral). Other options go to the arbiter.
 */
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { describeError, isPaddockError } from '../errors.js'
import { startWebServer } from '../control/web-server.js'
import { unixRelay } from '../control/relay.js'

const DEMO = fileURLToPath(new URL('../../../resources/demo/app.mjs', import.meta.url))

/** 127.0.0.1:8000 when free, else a port the kernel picks: a second dashboard must not fail to start. */
export async function defaultBind(preferred = 8000): Promise<string> {
  const free = await new Promise<boolean>((resolve) => {
    const s = net.createServer()
    s.once('error', () => resolve(false))
    s.listen(preferred, '127.0.0.1', () => s.close(() => resolve(true)))
  })
  return `127.0.0.1:${free ? preferred : 0}`
}

function takeFlag(argv: string[], name: string): string | undefined {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  if (i < 0) return undefined
  const a = argv[i]!
  const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1]
  argv.splice(i, a.includes('=') ? 1 : 2)
  return v
}

const USAGE = `usage: paddock dashboard [--port N] [OPTIONS] [MODULE[:EXPORT]]
       paddock dashboard [--port N] --attach SOCKET
  Serves the dashboard to your browser on 127.0.0.1 (the URL, with its token, is printed).
  Without --attach it hosts a server for MODULE (the demo app when none is given), taking
  every option of \`paddock\` (see paddock --help); --attach shows a server started elsewhere.
  --port N   the dashboard's port (default: one the kernel picks)`

export async function runDashboard(argvIn: string[]): Promise<number> {
  const argv = [...argvIn]
  // before anything binds: `dashboard --help` must not start the demo on :8000
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE + '\n')
    return 0
  }
  try {
    const portFlag = takeFlag(argv, 'port')
    const port = portFlag === undefined ? 0 : Number(portFlag)
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got "${portFlag}"`)
    const attach = takeFlag(argv, 'attach')
    if (attach) {
      const web = await startWebServer(unixRelay(attach), { port })
      process.stdout.write(`paddock dashboard (attached to ${attach}): ${web.url}\n`)
      await new Promise<void>((resolve) => process.once('SIGINT', resolve))
      await web.close()
      return 0
    }
    const { resolveConfig } = await import('../config/resolve.js')
    const { Host } = await import('../host/host.js')
    const { startControlPlane } = await import('../control/index.js')
    const hasBind = argv.some((a) => a === '-b' || a.startsWith('--bind'))
    const args = [...(hasBind ? [] : ['-b', await defaultBind()]), ...argv]
    // Let the config parser say whether an app was given; fall back to the demo app.
    let config = await resolveConfig(args)
    if (!config.app) config = await resolveConfig([...args, DEMO])
    // The host outlives a stop from the window: the operator can start the server again.
    const host = new Host(config)
    await host.start()
    const plane = await startControlPlane(host, { ...(config.settings as Record<string, never>), dashboard: false })
    const web = await startWebServer(plane.control, { port })
    process.stdout.write(`paddock dashboard: ${web.url}\n`)
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    await web.close()
    await plane.close()
    await host.stop('graceful')
    return 0
  } catch (err) {
    process.stderr.write(`paddock dashboard: ${describeError(err)}\n`)
    return isPaddockError(err) && (err.code === 'PADDOCK_ERR_USAGE' || err.code === 'PADDOCK_ERR_CONFIG') ? 2 : 1
  }
}
