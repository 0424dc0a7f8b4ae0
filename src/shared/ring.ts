/** A fixed-capacity ring buffer: O(1) push, oldest-first iteration. History never grows unbounded. */
export class Ring<T> {
  private buf: (T | undefined)[]
  private start = 0
  private count = 0

  constructor(readonly capacity: number) {
    this.buf = new Array(capacity)
  }

  push(v: T): void {
    const i = (this.start + this.count) % this.capacity
    this.buf[i] = v
    if (this.count < this.capacity) this.count++
    else this.start = (this.start + 1) % this.capacity
  }

  get length(): number {
    return this.count
  }

  last(): T | undefined {
    return this.count ? this.buf[(this.start + this.count - 1) % this.capacity] : undefined
  }

  /** The newest n items (all when n is omitted), oldest first. */
  toArray(n = this.count): T[] {
    const take = Math.min(n, this.count)
    const out: T[] = new Array(take)
    for (let k = 0; k < take; k++) out[k] = this.buf[(this.start + this.count - take + k) % this.capacity] as T
    return out
  }

  clear(): void {
    this.buf = new Array(this.capacity)
    this.start = 0
    this.count = 0
  }
}
