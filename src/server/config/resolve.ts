/**
 * Resolving the configuration, with Gunicorn's precedence:
 *   defaults < config file < PADDOCK_CMD_ARGS < command line
 * HUP runs the same resolution again (re-reading the file and the variable).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { resolve as resolvePath } from 'node:path'
import { PaddockError } from '../errors.js'
import { SETTINGS, SETTINGS_BY_NAME, HOOK_NAMES, defaultValue, type HookName, type SettingSpec } from './settings.js'
import { checkControlEndpoint, coerceSetting, describe } from './validate.js'
import { findDefaultConfig, loadConfigFile } from './file.js'
import { workerCountProblem } from './limits.js'
import { checkTlsFiles } from '../http/tls.js'
import type { SettingInfo, WorkerClassName } from '../../shared/protocol.js'
import { canonicalWorkerClass, isWorkerClassInput } from '../../shared/worker-classes.js'

export type Source = SettingInfo['source']
export type Hooks = Partial<Record<HookName, (...args: unknown[]) => unknown>>

export interface ResolvedConfig {
  settings: Record<string, unknown>
  sources: Record<string, Source>
  /** MODULE[:EXPORT], resolved against cwd / chdir */
  app: string | null
  configFile: string | null
  hooks: Hooks
  /** --check-config / --print-config / --help / --version asked for */
  action: 'serve' | 'check' | 'print' | 'help' | 'version'
  argv: string[]
}

function parseOptions(): ParseArgsConfig['options'] {
  const options: NonNullable<ParseArgsConfig['options']> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
    'check-config': { type: 'boolean' },
    'print-config': { type: 'boolean' },
  }
  for (const spec of SETTINGS) {
    if (!spec.flag) continue
    const o: { type: 'string' | 'boolean'; short?: string; multiple?: boolean } = { type: spec.type === 'bool' ? 'boolean' : 'string' }
    if (spec.short) o.short = spec.short
    if (spec.type === 'list') o.multiple = true
    options[spec.flag] = o
    if (spec.negatable) options[`no-${spec.flag}`] = { type: 'boolean' }
  }
  return options
}

interface ParsedArgs {
  values: Record<string, unknown>
  app: string | null
  flags: Set<string>
}

export function parseArgv(argv: string[], origin: string): ParsedArgs {
  let parsed
  try {
    parsed = parseArgs({ args: withBareValues(argv), options: parseOptions(), allowPositionals: true, strict: true })
  } catch (err) {
    const msg = (err as Error).message.replace(/\. To specify a positional.*$/s, '').replace(/^Unknown option/, 'unrecognized option')
    throw new PaddockError('PADDOCK_ERR_USAGE', `${msg}${origin === 'command line' ? '' : ` (in ${origin})`}; see paddock --help`)
  }
  if (parsed.positionals.length > 1) {
    throw new PaddockError('PADDOCK_ERR_USAGE', `expected one app MODULE[:EXPORT], got ${parsed.positionals.length}: ${parsed.positionals.join(' ')}`)
  }
  const values: Record<string, unknown> = {}
  const flags = new Set<string>()
  for (const [key, raw] of Object.entries(parsed.values)) {
    if (['help', 'version', 'check-config', 'print-config'].includes(key)) {
      flags.add(key)
      continue
    }
    const negated = key.startsWith('no-') && !SETTINGS.some((s) => s.flag === key)
    const spec = SETTINGS.find((s) => s.flag === (negated ? key.slice(3) : key))!
    values[spec.name] = coerceSetting(spec, negated ? !raw : raw, origin)
  }
  return { values, app: parsed.positionals[0] ?? null, flags }
}

/** `--proxy-protocol` with no value of its own (the end, another flag or the app next) means its `bare` value. */
function withBareValues(argv: string[]): string[] {
  return argv.map((arg, i) => {
    const spec = arg.startsWith('--') ? SETTINGS.find((s) => s.bare !== undefined && `--${s.flag}` === arg) : undefined
    if (!spec) return arg
    const next = argv[i + 1]
    return next === undefined || next.startsWith('-') || !spec.choices?.includes(next) ? `${arg}=${spec.bare}` : arg
  })
}

/** Split a PADDOCK_CMD_ARGS string like a shell would for simple quoting. */
export function splitCmdArgs(s: string): string[] {
  const out: string[] = []
  const re = /"((?:\\.|[^"])*)"|'([^']*)'|(\S+)/g
  for (let m; (m = re.exec(s)); ) out.push(m[1] ?? m[2] ?? m[3])
  return out
}

export async function resolveConfig(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ResolvedConfig> {
  const env = opts.env ?? process.env
  const cwd = opts.cwd ?? process.cwd()
  const cli = parseArgv(argv, 'command line')
  const envArgs = env.PADDOCK_CMD_ARGS ? parseArgv(splitCmdArgs(env.PADDOCK_CMD_ARGS), 'PADDOCK_CMD_ARGS') : null

  const settings: Record<string, unknown> = {}
  const sources: Record<string, Source> = {}
  for (const spec of SETTINGS) {
    settings[spec.name] = defaultValue(spec)
    sources[spec.name] = 'default'
  }

  const configPath = (cli.values.config ?? envArgs?.values.config) as string | undefined
  const configFile = configPath ? resolvePath(cwd, configPath) : findDefaultConfig(cwd)
  const hooks: Hooks = {}
  let app: string | null = null
  if (configFile) {
    const file = await loadConfigFile(configFile)
    for (const [key, value] of Object.entries(file)) {
      if ((HOOK_NAMES as readonly string[]).includes(key)) {
        if (typeof value !== 'function') throw new PaddockError('PADDOCK_ERR_CONFIG', `config file ${configFile}: hook ${key} must be a function`)
        hooks[key as HookName] = value as (...args: unknown[]) => unknown
        continue
      }
      if (key === 'app' || key === 'wsgi_app') {
        app = String(value)
        continue
      }
      const spec = SETTINGS_BY_NAME.get(key)
      if (!spec) throw new PaddockError('PADDOCK_ERR_CONFIG', `config file ${configFile}: unknown setting "${key}"`)
      settings[key] = coerceSetting(spec, value, `config file`)
      sources[key] = 'config'
    }
    settings.config = configFile
  }
  for (const [layer, source] of [[envArgs, 'env'], [cli, 'cli']] as const) {
    if (!layer) continue
    for (const [k, v] of Object.entries(layer.values)) {
      settings[k] = v
      sources[k] = source
    }
    if (layer.app) app = layer.app
  }
  normalize(settings)
  checkControlEndpoint(settings)
  // the certificate and key are read here too: a bad pair stops the start (exit 2) and a HUP
  checkTlsFiles(settings)
  const action = cli.flags.has('help') ? 'help' : cli.flags.has('version') ? 'version' : cli.flags.has('check-config') ? 'check' : cli.flags.has('print-config') ? 'print' : 'serve'
  // refused before anything starts (and by --check-config), not discovered at the 200th fork
  const problem = action === 'help' || action === 'version' ? null : workerCountProblem(Number(settings.workers), Number(settings.max_workers))
  if (problem) throw new PaddockError('PADDOCK_ERR_CONFIG', `${describe(SETTINGS_BY_NAME.get('workers')!)} (${sources.workers}): ${problem}`)
  return { settings, sources, app, configFile, hooks, action, argv }
}

/** Gunicorn's equivalences: an alias is its class (gevent / eventlet are async); sync with threads > 1 is gthread. */
export function normalize(settings: Record<string, unknown>): void {
  if (isWorkerClassInput(settings.worker_class)) settings.worker_class = canonicalWorkerClass(settings.worker_class)
  if (settings.worker_class === 'sync' && (settings.threads as number) > 1) settings.worker_class = 'gthread'
}

export function workerClassOf(settings: Record<string, unknown>): WorkerClassName {
  return settings.worker_class as WorkerClassName
}

export function settingInfos(config: Pick<ResolvedConfig, 'settings' | 'sources'>): SettingInfo[] {
  return SETTINGS.map((spec) => ({
    name: spec.name,
    value: config.settings[spec.name],
    default: defaultValue(spec),
    source: config.sources[spec.name] ?? 'default',
    apply: spec.apply,
    type: spec.type,
    ...(spec.meta === 'SECONDS' ? { unit: 's' as const } : spec.meta === 'BYTES' ? { unit: 'bytes' as const } : {}),
    description: spec.description,
  }))
}

export function helpText(): string {
  const lines = ['usage: paddock [OPTIONS] MODULE[:EXPORT]', '       paddock ctl COMMAND | paddock dashboard [OPTIONS] [MODULE] | paddock load URL [OPTIONS]', '']
  const sections: SettingSpec['section'][] = ['server', 'workers', 'timeouts', 'http', 'logging', 'process', 'control']
  for (const section of sections) {
    lines.push(`${section}:`)
    for (const spec of SETTINGS.filter((s) => s.section === section && s.flag)) {
      const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${spec.flag}${spec.type === 'bool' ? '' : ` ${spec.meta ?? 'VALUE'}`}`
      const def = defaultValue(spec)
      const shown = def === null || (Array.isArray(def) && def.length === 0) ? '' : ` [default: ${Array.isArray(def) ? def.join(',') : String(def)}]`
      lines.push(`  ${flag.padEnd(34)} ${spec.description}${shown}`)
    }
    lines.push('')
  }
  lines.push('other:', `  ${'-h, --help'.padEnd(34)} Show this help.`, `  ${'    --check-config'.padEnd(34)} Validate the configuration and the app, then exit.`, `  ${'    --print-config'.padEnd(34)} Print the resolved configuration, then exit.`, `  ${'-v, --version'.padEnd(34)} Print the version.`)
  return lines.join('\n')
}

export { describe }
