#!/usr/bin/env node
// Writes the app icon set (resources/icons/NxN.png, and resources/icons/icon.png at 1024)
// with no image tool: shapes are sampled 4x4 per pixel and the PNG is encoded here with
// zlib. electron-builder derives the macOS .icns and the Windows .ico from these.
// Run again after changing the drawing: node scripts/make-icons.mjs
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { deflateSync } from 'node:zlib'

const out = fileURLToPath(new URL('../resources/icons', import.meta.url))
const SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024]

// The drawing on a unit square: a dark rounded tile, a fence (three posts, two rails) and
// a green dot for a worker that is ready.
const BG = [15, 20, 25]
const FENCE = [233, 196, 106]
const READY = [64, 192, 128]
function inRoundRect(x, y, x0, y0, x1, y1, r) {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false
  const cx = Math.min(Math.max(x, x0 + r), x1 - r)
  const cy = Math.min(Math.max(y, y0 + r), y1 - r)
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r
}
function color(x, y) {
  if (!inRoundRect(x, y, 0.04, 0.04, 0.96, 0.96, 0.2)) return null
  if ((x - 0.72) ** 2 + (y - 0.28) ** 2 <= 0.085 ** 2) return READY
  for (const px of [0.22, 0.45, 0.68]) if (inRoundRect(x, y, px - 0.045, 0.42, px + 0.045, 0.82, 0.03)) return FENCE
  for (const ry of [0.52, 0.68]) if (inRoundRect(x, y, 0.14, ry - 0.03, 0.86, ry + 0.03, 0.02)) return FENCE
  return BG
}

function render(size) {
  const S = 4
  const rows = []
  for (let py = 0; py < size; py++) {
    const row = Buffer.alloc(1 + size * 4) // filter byte 0, then RGBA
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0
      for (let sy = 0; sy < S; sy++)
        for (let sx = 0; sx < S; sx++) {
          const c = color((px + (sx + 0.5) / S) / size, (py + (sy + 0.5) / S) / size)
          if (!c) continue
          r += c[0]; g += c[1]; b += c[2]; a++
        }
      const o = 1 + px * 4
      if (a) row.set([Math.round(r / a), Math.round(g / a), Math.round(b / a), Math.round((255 * a) / (S * S))], o)
    }
    rows.push(row)
  }
  return png(size, size, Buffer.concat(rows))
}

const CRC = new Int32Array(256).map((_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c
})
function crc32(buf) {
  let c = -1
  for (const byte of buf) c = CRC[(c ^ byte) & 0xff] ^ (c >>> 8)
  return (c ^ -1) >>> 0
}
function chunk(type, data) {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([len, body, crc])
}
function png(w, h, raw) {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(w, 0)
  ihdr.writeUInt32BE(h, 4)
  ihdr.set([8, 6, 0, 0, 0], 8) // 8-bit RGBA, no interlace
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))])
}

mkdirSync(out, { recursive: true })
for (const size of SIZES) {
  const data = render(size)
  writeFileSync(join(out, `${size}x${size}.png`), data)
  if (size === 1024) writeFileSync(join(out, 'icon.png'), data)
}
process.stdout.write(`icons written to ${out}\n`)
