/**
 * A hosted server in the test's own process: a Host (what `paddock dashboard` and Electron
 * main run) with a real ControlServer in front, as the dashboard's commands reach it. It
 * comes from dist/ because the Host forks dist/server/worker/main.js (vitest.config.ts).
 * Start it in beforeAll and call `stop()` in afterAll: a quick stop bounded to 5 s, then
 * SIGKILL by pid for any worker still listed, so no worker outlives the file.
 */
import { Host } from '../../dist/server/host/host.js'
import { ControlServer } from '../../dist/server/control/control-server.js'
import { resolveConfig } from '../../dist/server/config/resolve.js'
import type { CommandResult, ControlCommand, ControlEvent } from '../../src/shared/protocol.js'
import { sleep } from './proc.js'

export interface Hosted {
  host: InstanceType<typeof Host>
  control: InstanceType<typeof ControlServer>
  /** every event the host emitted since before its start */
  events: ControlEvent[]
  /** a command through the ControlServer, as the dashboard sends it */
  run(command: ControlCommand): Promise<CommandResult>
  /** the port of the first listener */
  port(): number
  stop(): Promise<void>
}

/**
 * `args`: paddock's command line; the bind (127.0.0.1:0) and --no-control-socket are added.
 * `control`: the ControlServer's options (its snapshot rate, ...).
 */
export async function startHosted(args: string[], control: ConstructorParameters<typeof ControlServer>[1] = {}): Promise<Hosted> {
  const host = new Host(await resolveConfig(['-b', '127.0.0.1:0', '--no-control-socket', ...args]))
  const events: ControlEvent[] = []
  host.onEvent((e) => events.push(e))
  await host.start()
  const server = new ControlServer(host, control)
  return {
    host,
    control: server,
    events,
    run: (command) => server.execute(command),
    port: () => host.snapshot().listeners[0]!.port!,
    async stop() {
      server.close()
      await Promise.race([host.stop('quick'), sleep(5000)])
      for (const pid of host.workerPids()) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // exited meanwhile
        }
      }
    },
  }
}
