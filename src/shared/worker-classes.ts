/**
 * The worker classes, listed once. The protocol's types, the worker_class setting's choices
 * and the control plane's checks all derive from these two constants.
 *
 * No runtime dependencies: the renderer imports this file too.
 */

export const WORKER_CLASSES = ['sync', 'gthread', 'async', 'native'] as const

export type WorkerClassName = (typeof WORKER_CLASSES)[number]

/** Gunicorn's names for its event-loop workers: accepted as input, shown as the class they stand for. */
export const WORKER_CLASS_ALIASES = { gevent: 'async', eventlet: 'async' } as const satisfies Record<string, WorkerClassName>

/** The names a user may type: a class or an alias. */
export type WorkerClassInput = WorkerClassName | keyof typeof WORKER_CLASS_ALIASES

/** Every name a user may type, the classes first (the order `--help` and error messages show). */
export const WORKER_CLASS_INPUTS: readonly WorkerClassInput[] = [
  ...WORKER_CLASSES,
  ...(Object.keys(WORKER_CLASS_ALIASES) as (keyof typeof WORKER_CLASS_ALIASES)[]),
]

export function isWorkerClassInput(value: unknown): value is WorkerClassInput {
  return typeof value === 'string' && (WORKER_CLASS_INPUTS as readonly string[]).includes(value)
}

/** The class a name stands for: an alias resolved, a class as itself. */
export function canonicalWorkerClass(name: WorkerClassInput): WorkerClassName {
  return name in WORKER_CLASS_ALIASES ? WORKER_CLASS_ALIASES[name as keyof typeof WORKER_CLASS_ALIASES] : (name as WorkerClassName)
}
