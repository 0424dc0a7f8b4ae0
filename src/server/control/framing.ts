/**
 * Control socket framing (gunicornc style): 4-byte big-endian length, then that
 * many bytes of UTF-8 JSON. A decoder error means the peer is broken or hostile:
 * the caller answers with an error frame and closes that one connection.
 */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024

export function encodeFrame(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8')
  const head = Buffer.alloc(4)
  head.writeUInt32BE(body.length, 0)
  return Buffer.concat([head, body])
}

export class FrameError extends Error {}

/** Accumulates chunks and yields whole decoded frames; throws FrameError on oversize or bad JSON. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0)
  constructor(private maxBytes = MAX_FRAME_BYTES) {}

  /** A peer that proved itself may send larger frames than one that has not yet. */
  setLimit(maxBytes: number): void {
    this.maxBytes = maxBytes
  }

  push(chunk: Buffer): unknown[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk
    const out: unknown[] = []
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0)
      // Refuse before buffering the body, so a bogus length cannot make us hold gigabytes.
      if (len > this.maxBytes) throw new FrameError(`frame of ${len} bytes exceeds the ${this.maxBytes}-byte limit`)
      if (this.buf.length < 4 + len) break
      const body = this.buf.subarray(4, 4 + len)
      this.buf = this.buf.subarray(4 + len)
      try {
        out.push(JSON.parse(body.toString('utf8')))
      } catch {
        throw new FrameError('frame is not valid JSON')
      }
    }
    return out
  }
}
