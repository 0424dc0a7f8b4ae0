/**
 * Worker slots (PADDOCK_WORKER_ID, PM2's NODE_APP_INSTANCE): each serving worker holds one
 * of 0..N-1, and a replacement takes the slot of the worker it replaces, so an app can say
 * "only slot 0 runs the scheduler" and mean exactly one process at any time it is up.
 *
 * A worker gives up its slot when it stops counting as serving: it exited, it drains, it
 * retires (max-requests, memory) or belongs to an older generation (a reload). Its
 * replacement is spawned at that moment, so it finds the slot free; the old worker, still
 * finishing its requests, keeps the number in its environment until it exits, which is the
 * overlap a replacement-first recycle needs anyway.
 */

/** The lowest slot no serving worker holds. */
export function freeSlot(serving: readonly { slot: number }[]): number {
  const taken = new Set(serving.map((w) => w.slot))
  let slot = 0
  while (taken.has(slot)) slot++
  return slot
}

/**
 * Which serving workers to drain when there are `extra` too many (TTOU, scale down): the
 * highest slots, so those left keep 0..N-1; among equal slots (never, but) the oldest.
 */
export function surplus<W extends { slot: number; spawnedAt: number }>(serving: readonly W[], extra: number): W[] {
  return [...serving].sort((a, b) => b.slot - a.slot || a.spawnedAt - b.spawnedAt).slice(0, Math.max(0, extra))
}
