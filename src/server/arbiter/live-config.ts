/**
 * Live configuration: settings that change while the server runs, from a HUP re-read or
 * from the control plane. A change made through the control plane is marked with source
 * `control` and survives later re-reads, as does an app set by setApp; every change is
 * reported as one `config.changed` event. What a change sets in motion (a rolling reload,
 * a new worker count, a log level) is the arbiter's business.
 */
import type { ControlEvent, SettingInfo, WorkerClassInput, WorkerClassName } from '../../shared/protocol.js'
import { normalize, resolveConfig, settingInfos, type ResolvedConfig } from '../config/resolve.js'
import type { SettingSpec } from '../config/settings.js'
import { coerceSetting, specFor } from '../config/validate.js'

export class LiveConfig {
  /** set by setApp: survives the config re-read of later reloads */
  private appOverride: string | null = null

  constructor(
    public config: ResolvedConfig,
    private readonly emit: (event: ControlEvent) => void,
  ) {}

  get settings(): Record<string, unknown> {
    return this.config.settings
  }

  /** the class the next workers run */
  get workerClass(): WorkerClassName {
    return this.config.settings.worker_class as WorkerClassName
  }

  /** Every setting with its value and where it came from. */
  infos(): SettingInfo[] {
    return settingInfos(this.config)
  }

  /**
   * HUP: the configuration read again from the command line and config file, keeping what
   * the control plane and setApp changed. Null when there is nothing to read (a config
   * built in-process); throws when it is invalid.
   */
  async reread(): Promise<ResolvedConfig | null> {
    if (!this.config.argv.length && !this.config.configFile) return null
    const fresh = await resolveConfig(this.config.argv)
    // Settings changed through the control plane survive a reload.
    for (const [k, src] of Object.entries(this.config.sources)) {
      if (src === 'control') {
        fresh.settings[k] = this.config.settings[k]
        fresh.sources[k] = 'control'
      }
    }
    if (this.appOverride) fresh.app = this.appOverride
    return fresh
  }

  /** Take a re-read configuration whole. */
  replace(fresh: ResolvedConfig): void {
    this.record(fresh.settings, fresh)
  }

  /** One setting from the control plane, validated. Returns its spec and the settings now. */
  set(name: string, value: unknown): { spec: SettingSpec; settings: Record<string, unknown> } {
    const spec = specFor(name)
    const next = { ...this.config.settings, [name]: coerceSetting(spec, value, 'control') }
    normalize(next)
    this.record(next)
    return { spec, settings: next }
  }

  /** The worker class from the control plane, with its sizes; threads follow the class unless given. Returns the class now. */
  setWorkerClass(workerClass: WorkerClassInput, sizes: { threads?: number; workerConnections?: number }): string {
    const changes: [string, unknown][] = [['worker_class', workerClass]]
    if (sizes.threads !== undefined) changes.push(['threads', sizes.threads])
    if (sizes.workerConnections !== undefined) changes.push(['worker_connections', sizes.workerConnections])
    const next = { ...this.config.settings }
    for (const [name, value] of changes) next[name] = coerceSetting(specFor(name), value, 'control')
    if (next.worker_class === 'gthread' && sizes.threads === undefined && Number(next.threads) < 2) next.threads = 4
    if (next.worker_class !== 'gthread' && sizes.threads === undefined) next.threads = 1
    normalize(next)
    this.record(next)
    return String(next.worker_class)
  }

  /** Serve another app module from the next generation on. Returns what undoes it. */
  setApp(app: string): () => void {
    const before = { override: this.appOverride, app: this.config.app }
    this.appOverride = app
    this.config = { ...this.config, app }
    return () => {
      this.appOverride = before.override
      this.config = { ...this.config, app: before.app }
    }
  }

  private record(next: Record<string, unknown>, fresh?: ResolvedConfig): void {
    const changes = Object.keys(next)
      .filter((k) => JSON.stringify(next[k]) !== JSON.stringify(this.config.settings[k]))
      .map((name) => ({ name, from: this.config.settings[name], to: next[name] }))
    if (fresh) this.config = fresh
    else {
      const sources = { ...this.config.sources }
      for (const c of changes) sources[c.name] = 'control'
      this.config = { ...this.config, settings: next, sources }
    }
    if (changes.length) this.emit({ type: 'config.changed', at: Date.now(), changes })
  }
}
