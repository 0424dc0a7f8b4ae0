/**
 * The worker classes by name. A class is chosen here once; everything that differs between
 * them is behind the WorkerClass interface (worker-class.ts).
 */
import type { WorkerClassName } from '../../shared/protocol.js'
import { asyncClass, syncClass } from './event-loop.js'
import { gthreadClass } from './gthread/gthread.js'
import { nativeClass } from './native.js'
import type { WorkerClass } from './worker-class.js'

const CLASSES: Record<WorkerClassName, WorkerClass> = { sync: syncClass, async: asyncClass, gthread: gthreadClass, native: nativeClass }

export function workerClass(name: WorkerClassName): WorkerClass {
  const cls = CLASSES[name]
  if (!cls) throw new Error(`unknown worker class ${JSON.stringify(name)}`)
  return cls
}

export type { WorkerClass, WorkerTraits } from './worker-class.js'
