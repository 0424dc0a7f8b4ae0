export { Arbiter, type ArbiterOptions } from './arbiter.js'
export type { ArbiterApi, ReloadOutcome } from './api.js'
