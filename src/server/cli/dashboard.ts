/**
 * `paddock dashboard [OPTIONS] [MODULE]`: host an arbiter in-process and serve the browser UI;
 * `paddock dashboard --attach SOCKET`: serve the UI for an arbiter started elsewhere.
 * --port N chooses the dashboard port (default: ephemeral). Other options go to the arbiter.
 */
import { fileURLToPath } from 'node:url'
import { describeError, isPaddockError, PaddockError } from '../errors.js'
import { startWebServer } from '../control/web-server.js'
import { unixRelay } from '../control/relay.js'
import { readClientCert } from '../control/remote.js'

const DEMO = fileURLToPath(new URL('../../../resources/demo/app.mjs', import.meta.url))

function takeFlag(argv: string[], name: string): string | undefined {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  if (i < 0) return undefined
  const a = argv[i]!
  const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1]
  argv.splice(i, a.includes('=') ? 1 : 2)
  return v
}

const USAGE = `usage: paddock dashboard [--port N] [--fleet-certfile FILE --fleet-keyfile FILE] [OPTIONS] [MODULE[:EXPORT]]
       paddock dashboard [--port N] [--fleet-certfile FILE --fleet-keyfile FILE] --attach SOCKET
  Serves the dashboard to your browser on 127.0.0.1 (the URL, with its token, is printed).
  Without --attach it hosts a server for MODULE (the demo app when none is given), taking
  every option of \`paddock\` (see paddock --help); --attach shows a server started elsewhere.
  --port N   the dashboard's port (default: one the kernel picks)
  --fleet-certfile FILE --fleet-keyfile FILE
             the client certificate the Fleet view presents to servers whose control
             endpoint requires one (--control-ca-certs); the key is read here, never sent to the page`

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
    const certFile = takeFlag(argv, 'fleet-certfile')
    const keyFile = takeFlag(argv, 'fleet-keyfile')
    if (Boolean(certFile) !== Boolean(keyFile)) throw new PaddockError('PADDOCK_ERR_USAGE', '--fleet-certfile and --fleet-keyfile go together: the client certificate and its private key')
    let fleet: { clientCert?: { cert: Buffer; key: Buffer } } = {}
    if (certFile && keyFile) {
      try {
        fleet = { clientCert: readClientCert(certFile, keyFile) }
      } catch (err) {
        throw new PaddockError('PADDOCK_ERR_CONFIG', (err as Error).message)
      }
    }
    const attach = takeFlag(argv, 'attach')
    if (attach) {
      const web = await startWebServer(unixRelay(attach), { port, fleet })
      process.stdout.write(`paddock dashboard (attached to ${attach}): ${web.url}\n`)
      await new Promise<void>((resolve) => process.once('SIGINT', resolve))
      await web.close()
      return 0
    }
    const { startHostedServer } = await import('../host/start.js')
    const hosted = await startHostedServer({ argv, demoApp: DEMO })
    const web = await startWebServer(hosted.plane.control, { port, fleet })
    process.stdout.write(`paddock dashboard: ${web.url}\n`)
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    await web.close()
    await hosted.close('graceful')
    return 0
  } catch (err) {
    process.stderr.write(`paddock dashboard: ${describeError(err)}\n`)
    return isPaddockError(err) && (err.code === 'PADDOCK_ERR_USAGE' || err.code === 'PADDOCK_ERR_CONFIG') ? 2 : 1
  }
}
