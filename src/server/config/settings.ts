/**
 * The one settings table. It drives the CLI flags, the config file keys, the
 * PADDOCK_CMD_ARGS variable, validation, `--help`, `--print-config` and the
 * control plane's `config get/set`. Names are Gunicorn's (snake_case keys,
 * kebab-case flags) so a Gunicorn user finds what they expect.
 */
import type { SettingInfo } from '../../shared/protocol.js'
import { WORKER_CLASS_INPUTS } from '../../shared/worker-classes.js'
import { defaultMaxWorkers, MEMORY_PER_WORKER, WORKERS_PER_CPU } from './limits.js'

export type SettingType = SettingInfo['type']

export interface SettingSpec {
  name: string
  /** long flag without dashes; short flag letter */
  flag?: string
  short?: string
  type: SettingType
  default: unknown | (() => unknown)
  description: string
  apply: SettingInfo['apply']
  section: 'server' | 'workers' | 'timeouts' | 'http' | 'logging' | 'process' | 'control'
  /** For ints / numbers. */
  min?: number
  choices?: readonly string[]
  /** Words a number setting also takes, resolved when the value is read (workers: 'max'). */
  words?: readonly string[]
  /** A boolean flag that has a --no-x form. */
  negatable?: boolean
  /** Value placeholder shown in --help. */
  meta?: string
  /** The value of the flag given without one (`--proxy-protocol` alone means auto). */
  bare?: string
}

const env = process.env

// `as const`: the public config types (src/server/public-config.ts) are derived from this
// very table, so a setting added here is typed in every paddock.config.ts at once.
const TABLE = [
  { name: 'config', flag: 'config', short: 'c', type: 'string', default: null, apply: 'restart', section: 'server', meta: 'FILE', description: 'Config file (JS, MJS or TS). Default: ./paddock.config.{js,mjs,ts} when present.' },
  { name: 'bind', flag: 'bind', short: 'b', type: 'list', default: () => (env.PORT ? [`0.0.0.0:${env.PORT}`] : ['127.0.0.1:8000']), apply: 'restart', section: 'server', meta: 'ADDRESS', description: 'Address to listen on, repeatable: HOST:PORT, [::1]:PORT, unix:PATH, fd://N. Default 127.0.0.1:8000, or 0.0.0.0:$PORT when PORT is set.' },
  { name: 'backlog', flag: 'backlog', type: 'int', default: 2048, min: 1, apply: 'restart', section: 'server', meta: 'INT', description: 'Maximum number of pending connections in the kernel listen queue.' },
  { name: 'workers', flag: 'workers', short: 'w', type: 'int', default: () => Number(env.WEB_CONCURRENCY ?? 1) || 1, min: 1, words: ['max'], apply: 'live', section: 'workers', meta: 'INT|max', description: 'Number of worker processes. max: one per CPU this process may use (os.availableParallelism() lowered by a cgroup CPU quota, as in a Kubernetes pod with a CPU limit). Default 1, or $WEB_CONCURRENCY.' },
  { name: 'max_workers', flag: 'max-workers', type: 'int', default: () => defaultMaxWorkers(), min: 1, apply: 'live', section: 'workers', meta: 'INT', description: `Upper bound on workers: -w, scale, TTIN and the dashboard refuse beyond it. Default ${WORKERS_PER_CPU} per usable CPU, at most one per ${MEMORY_PER_WORKER / 2 ** 20} MiB of memory.` },
  { name: 'worker_class', flag: 'worker-class', short: 'k', type: 'string', default: 'sync', choices: WORKER_CLASS_INPUTS, apply: 'reload', section: 'workers', meta: 'CLASS', description: 'sync (one request at a time per process), gthread (a pool of threads per process), async (one event loop, many connections; gevent and eventlet are aliases), native (the app brings its own http.Server).' },
  { name: 'threads', flag: 'threads', type: 'int', default: 1, min: 1, apply: 'reload', section: 'workers', meta: 'INT', description: 'Threads per worker for gthread. sync with threads > 1 means gthread.' },
  { name: 'worker_connections', flag: 'worker-connections', type: 'int', default: 1000, min: 1, apply: 'reload', section: 'workers', meta: 'INT', description: 'Maximum simultaneous connections per async worker; the rest wait in the backlog for other workers.' },
  { name: 'max_requests', flag: 'max-requests', type: 'int', default: 0, min: 0, apply: 'reload', section: 'workers', meta: 'INT', description: 'Recycle a worker after this many requests (0 = never). Its replacement starts first.' },
  { name: 'max_requests_jitter', flag: 'max-requests-jitter', type: 'int', default: 0, min: 0, apply: 'reload', section: 'workers', meta: 'INT', description: 'Add a random 0..N to max_requests per worker so they do not all recycle at once.' },
  { name: 'crash_loop_limit', flag: 'crash-loop-limit', type: 'int', default: 5, min: 1, apply: 'live', section: 'workers', meta: 'INT', description: 'Workers that fail to boot, or die within 2 s of being ready, this many times in a row: no more respawns until a reload (the server shows errored).' },
  { name: 'restart_backoff', flag: 'restart-backoff', type: 'number', default: 0.1, min: 0, apply: 'live', section: 'workers', meta: 'SECONDS', description: 'Back-off after such a failure: the wait before the next spawn is this doubled per failure in a row (0.2 s after the first, 0.4 s after the second).' },
  { name: 'restart_backoff_max', flag: 'restart-backoff-max', type: 'number', default: 10, min: 0, apply: 'live', section: 'workers', meta: 'SECONDS', description: 'The longest wait of the back-off.' },
  { name: 'max_worker_memory', flag: 'max-worker-memory', type: 'string', default: null, apply: 'live', section: 'workers', meta: 'SIZE', description: 'Recycle a worker whose resident memory stays above this (512M, 1.5G; gthread: the whole process with its threads), replacement first, as --max-requests does. Off by default.' },
  { name: 'reload', flag: 'reload', type: 'bool', default: false, apply: 'restart', section: 'workers', description: "Development: a rolling reload whenever a file under the app's directory changes (node_modules and dot-directories aside). A change that fails to boot leaves the last good generation serving." },
  { name: 'reload_extra_files', flag: 'reload-extra-file', type: 'list', default: () => [], apply: 'restart', section: 'workers', meta: 'FILE', description: 'With --reload, also reload when this file changes (repeatable); the config file is always watched.' },
  { name: 'preload_app', flag: 'preload', type: 'bool', default: false, apply: 'restart', section: 'workers', description: 'Load the app in the master before forking, so a broken app fails fast.' },
  { name: 'interface', flag: 'interface', type: 'string', default: 'auto', choices: ['auto', 'node', 'fetch'], apply: 'reload', section: 'workers', meta: 'KIND', description: 'How to call the app: node (req, res), fetch (Request -> Response), or auto-detect.' },
  { name: 'factory', flag: 'factory', type: 'bool', default: false, apply: 'reload', section: 'workers', description: 'The export is a function that returns the app.' },
  { name: 'timeout', flag: 'timeout', short: 't', type: 'int', default: 30, min: 0, apply: 'reload', section: 'timeouts', meta: 'SECONDS', description: 'A worker whose event loop is silent this long is killed (SIGABRT, then SIGKILL) and the log names the request it was running. 0 = off.' },
  { name: 'boot_timeout', flag: 'boot-timeout', type: 'int', default: 60, min: 1, apply: 'reload', section: 'timeouts', meta: 'SECONDS', description: 'A worker that is not ready this long after it was spawned counts as a failed boot.' },
  { name: 'graceful_timeout', flag: 'graceful-timeout', type: 'int', default: 30, min: 0, apply: 'live', section: 'timeouts', meta: 'SECONDS', description: 'How long a draining worker may finish its requests before it is killed.' },
  { name: 'keepalive', flag: 'keep-alive', type: 'int', default: 2, min: 0, apply: 'reload', section: 'timeouts', meta: 'SECONDS', description: 'Seconds an idle keep-alive connection is kept open (gthread, async). sync always closes.' },
  { name: 'header_timeout', flag: 'header-timeout', type: 'int', default: 10, min: 0, apply: 'reload', section: 'timeouts', meta: 'SECONDS', description: 'A client must send the whole request head within this time, else 408 (slowloris guard).' },
  { name: 'request_timeout', flag: 'request-timeout', type: 'int', default: 60, min: 0, apply: 'reload', section: 'timeouts', meta: 'SECONDS', description: 'A client must send the whole request (head and body) within this time, else 408.' },
  { name: 'limit_request_line', flag: 'limit-request-line', type: 'int', default: 4094, min: 0, apply: 'reload', section: 'http', meta: 'BYTES', description: 'Maximum size of the request line (0 = 8190).' },
  { name: 'limit_request_fields', flag: 'limit-request-fields', type: 'int', default: 100, min: 1, apply: 'reload', section: 'http', meta: 'INT', description: 'Maximum number of header fields (431 above it).' },
  { name: 'limit_request_field_size', flag: 'limit-request-field-size', type: 'int', default: 8190, min: 1, apply: 'reload', section: 'http', meta: 'BYTES', description: 'Maximum size of one header field (431 above it).' },
  { name: 'limit_request_body', flag: 'limit-request-body', type: 'int', default: 0, min: 0, apply: 'reload', section: 'http', meta: 'BYTES', description: 'Maximum request body size, 413 above it (0 = unlimited).' },
  { name: 'forwarded_allow_ips', flag: 'forwarded-allow-ips', type: 'string', default: () => env.FORWARDED_ALLOW_IPS ?? '127.0.0.1,::1', apply: 'reload', section: 'http', meta: 'IPS', description: 'Front ends trusted to set secure_scheme_headers (X-Forwarded-Proto and the like): a comma list of addresses and CIDR subnets, or * for all. Default $FORWARDED_ALLOW_IPS or 127.0.0.1,::1.' },
  { name: 'allow_sync_upgrades', flag: 'allow-sync-upgrades', type: 'bool', default: false, apply: 'reload', section: 'http', description: 'Let sync workers accept WebSocket upgrades (each one occupies a whole worker while open).' },
  { name: 'server_header', flag: 'server-header', type: 'bool', default: true, negatable: true, apply: 'reload', section: 'http', description: 'Send `Server: paddock`.' },
  { name: 'accesslog', flag: 'access-logfile', type: 'string', default: null, apply: 'live', section: 'logging', meta: 'FILE', description: "Access log file ('-' = stdout). Off by default." },
  { name: 'access_log_format', flag: 'access-logformat', type: 'string', default: '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"', apply: 'reload', section: 'logging', meta: 'FORMAT', description: "Access log format with Gunicorn's atoms." },
  { name: 'errorlog', flag: 'error-logfile', type: 'string', default: '-', apply: 'live', section: 'logging', meta: 'FILE', description: "Error log file ('-' = stderr)." },
  { name: 'capture_output', flag: 'capture-output', type: 'bool', default: false, apply: 'reload', section: 'logging', description: "Send the workers' stdout and stderr (console.log, their threads' too) to the error log, one line each with the worker's pid." },
  { name: 'loglevel', flag: 'log-level', type: 'string', default: 'info', choices: ['debug', 'info', 'warning', 'error', 'critical'], apply: 'live', section: 'logging', meta: 'LEVEL', description: 'Error log level.' },
  { name: 'log_format', flag: 'log-format', type: 'string', default: 'text', choices: ['text', 'json'], apply: 'restart', section: 'logging', meta: 'FORMAT', description: 'text (Gunicorn\'s lines) or json: each error-log and access-log line is one JSON object (time, level, pid, message; an access line has a field per atom), every control character escaped.' },
  { name: 'proc_name', flag: 'name', short: 'n', type: 'string', default: null, apply: 'restart', section: 'process', meta: 'NAME', description: 'Process title (ps) and control socket name.' },
  { name: 'pidfile', flag: 'pid', short: 'p', type: 'string', default: null, apply: 'restart', section: 'process', meta: 'FILE', description: 'Write the master pid to this file.' },
  { name: 'chdir', flag: 'chdir', type: 'string', default: null, apply: 'restart', section: 'process', meta: 'DIR', description: 'Change to this directory before loading the app.' },
  { name: 'user', flag: 'user', short: 'u', type: 'string', default: null, apply: 'restart', section: 'process', meta: 'USER', description: 'Run the workers (and their threads) as this user, a name or a uid; the master stays root to bind ports below 1024. Their group is the user\'s own unless --group.' },
  { name: 'group', flag: 'group', short: 'g', type: 'string', default: null, apply: 'restart', section: 'process', meta: 'GROUP', description: 'Run the workers as this group, a name or a gid.' },
  { name: 'umask', flag: 'umask', short: 'm', type: 'string', default: null, apply: 'restart', section: 'process', meta: 'MODE', description: 'The workers\' umask, octal (027).' },
  { name: 'initgroups', flag: 'initgroups', type: 'bool', default: false, apply: 'restart', section: 'process', description: "Give the workers the user's supplementary groups (from /etc/group); otherwise they have only their group." },
  { name: 'raw_env', flag: 'env', short: 'e', type: 'list', default: () => [], apply: 'reload', section: 'process', meta: 'KEY=VALUE', description: 'Set an environment variable for the workers, repeatable.' },
  { name: 'control_socket', flag: 'control-socket', type: 'string', default: null, apply: 'restart', section: 'control', meta: 'PATH', description: 'Unix control socket for `paddock ctl` and the dashboard. Default under $XDG_RUNTIME_DIR/paddock/.' },
  { name: 'no_control_socket', flag: 'no-control-socket', type: 'bool', default: false, apply: 'restart', section: 'control', description: 'Do not open a control socket.' },
  { name: 'control_bind', flag: 'control-bind', type: 'string', default: null, apply: 'restart', section: 'control', meta: 'HOST:PORT', description: 'Also serve the control protocol over TCP here, for `paddock ctl --remote` and the Fleet view. Needs --control-token-file; a non-loopback address also needs TLS (--control-certfile, --control-keyfile). Never the app port.' },
  { name: 'control_token_file', flag: 'control-token-file', type: 'string', default: null, apply: 'restart', section: 'control', meta: 'FILE', description: 'File holding the token a TCP control client must present (read once at start; surrounding whitespace ignored; at least 16 characters).' },
  { name: 'control_certfile', flag: 'control-certfile', type: 'string', default: null, apply: 'restart', section: 'control', meta: 'FILE', description: 'PEM certificate (chain) of the TCP control endpoint: turns TLS on.' },
  { name: 'control_keyfile', flag: 'control-keyfile', type: 'string', default: null, apply: 'restart', section: 'control', meta: 'FILE', description: 'PEM private key for --control-certfile.' },
  { name: 'control_ca_certs', flag: 'control-ca-certs', type: 'string', default: null, apply: 'restart', section: 'control', meta: 'FILE', description: 'PEM CA bundle: TCP control clients must present a certificate it signed (mutual TLS), besides the token.' },
  { name: 'metrics_bind', flag: 'metrics-bind', type: 'string', default: null, apply: 'restart', section: 'control', meta: 'HOST:PORT', description: 'Serve Prometheus metrics at http://HOST:PORT/metrics.' },
  { name: 'statsd_host', flag: 'statsd-host', type: 'string', default: null, apply: 'restart', section: 'control', meta: 'HOST:PORT', description: "Send Gunicorn's statsd metrics to this host." },
  { name: 'statsd_prefix', flag: 'statsd-prefix', type: 'string', default: '', apply: 'restart', section: 'control', meta: 'PREFIX', description: 'Prefix for statsd metric names.' },
  { name: 'dogstatsd_tags', flag: 'dogstatsd-tags', type: 'string', default: '', apply: 'restart', section: 'control', meta: 'TAGS', description: 'Comma-separated DogStatsD tags.' },
  { name: 'dashboard', flag: 'dashboard', type: 'bool', default: false, apply: 'restart', section: 'control', description: 'Also serve the browser dashboard on 127.0.0.1 (URL with a token is logged).' },
  // ---- the HTTP edge: issue 14 (secure_scheme_headers, PROXY protocol, TLS)
  { name: 'secure_scheme_headers', type: 'object', default: () => ({ 'X-FORWARDED-PROTOCOL': 'ssl', 'X-FORWARDED-PROTO': 'https', 'X-FORWARDED-SSL': 'on' }), apply: 'reload', section: 'http', description: "Headers (name: value) with which a front end in forwarded_allow_ips says a request came over HTTPS, as Gunicorn's; from any other peer they are removed. Config file only." },
  { name: 'proxy_protocol', flag: 'proxy-protocol', type: 'string', default: 'off', choices: ['off', 'v1', 'v2', 'auto'], bare: 'auto', apply: 'reload', section: 'http', meta: 'VERSION', description: 'Expect a PROXY protocol header (HAProxy send-proxy / send-proxy-v2) first on every connection from proxy_allow_from: off, v1, v2, or auto (either). A bare --proxy-protocol means auto. The client address in it becomes the peer the app and the access log see.' },
  { name: 'proxy_allow_from', flag: 'proxy-allow-from', type: 'string', default: '127.0.0.1,::1', apply: 'reload', section: 'http', meta: 'IPS', description: 'Peers that must send a PROXY header: a comma list of addresses and CIDR subnets, or * for all. A PROXY header from any other peer closes the connection.' },
  { name: 'certfile', flag: 'certfile', type: 'string', default: null, apply: 'reload', section: 'http', meta: 'FILE', description: 'TLS certificate (PEM, the chain after it). Serves HTTPS in every worker class; HUP re-reads it.' },
  { name: 'keyfile', flag: 'keyfile', type: 'string', default: null, apply: 'reload', section: 'http', meta: 'FILE', description: 'TLS private key (PEM). Default: the key in --certfile.' },
  { name: 'ca_certs', flag: 'ca-certs', type: 'string', default: null, apply: 'reload', section: 'http', meta: 'FILE', description: 'CA certificates (PEM) that client certificates are checked against (--cert-reqs).' },
  { name: 'cert_reqs', flag: 'cert-reqs', type: 'int', default: 0, min: 0, apply: 'reload', section: 'http', meta: 'INT', description: 'Client certificates: 0 not asked, 1 asked and checked when given (optional), 2 required (mutual TLS).' },
  { name: 'ciphers', flag: 'ciphers', type: 'string', default: null, apply: 'reload', section: 'http', meta: 'LIST', description: "TLS 1.2 cipher list in OpenSSL's format. Default: Node's." },
  { name: 'tls_min_version', flag: 'tls-min-version', type: 'string', default: 'TLSv1.2', choices: ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'], apply: 'reload', section: 'http', meta: 'VERSION', description: 'The oldest TLS version accepted.' },
] as const satisfies readonly SettingSpec[]

export type SettingsTable = typeof TABLE
export const SETTINGS: readonly SettingSpec[] = TABLE

/** Settings a config file may contain besides the table: the app and the hooks. */
export const HOOK_NAMES = [
  'on_starting', 'on_reload', 'when_ready', 'pre_fork', 'post_fork', 'post_worker_init', 'worker_int',
  'worker_abort', 'pre_request', 'post_request', 'child_exit', 'worker_exit', 'nworkers_changed', 'on_exit',
  // (settings, tlsOptions) => tlsOptions: run by each worker as it sets up TLS (http/tls.ts)
  'ssl_context',
] as const
export type HookName = (typeof HOOK_NAMES)[number]

export const SETTINGS_BY_NAME = new Map(SETTINGS.map((s) => [s.name, s]))

export function defaultValue(spec: SettingSpec): unknown {
  return typeof spec.default === 'function' ? (spec.default as () => unknown)() : spec.default
}
