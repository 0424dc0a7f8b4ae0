/**
 * A self-contained SVG report of one LoadResult: throughput and p99 per second
 * (two lines, two axes) above a latency histogram. Hand-written so reports need
 * no charting dependency and open in any browser.
 */
import type { LoadResult } from '../../shared/protocol.js'
import { bucketLabels, plottedSeconds } from '../../shared/loadchart.js'

const W = 640
const H = 200
const PAD = 40

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string)
}

function line(values: number[], max: number, top: number, color: string): string {
  if (values.length === 0) return ''
  const step = (W - 2 * PAD) / Math.max(1, values.length - 1)
  const pts = values.map((v, i) => `${(PAD + i * step).toFixed(1)},${(top + H - PAD - (v / (max || 1)) * (H - 2 * PAD)).toFixed(1)}`)
  return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>`
}

export function renderSvg(r: LoadResult): string {
  // the last, partial second is dropped or scaled by its real length, never drawn as a full second
  const { points, note } = plottedSeconds(r)
  const rps = points.map((s) => s.rps)
  const p99 = points.map((s) => s.p99)
  const lastT = points[points.length - 1]?.t ?? 0
  const maxRps = Math.max(1, ...rps)
  const maxP99 = Math.max(1, ...p99)
  const hist = r.histogram
  const maxCount = Math.max(1, ...hist.map((b) => b.count))
  const labels = bucketLabels(hist)
  const bw = (W - 2 * PAD) / hist.length
  const bars = hist
    .map((b, i) => {
      const h = (b.count / maxCount) * (H - 2 * PAD)
      const x = PAD + i * bw
      const label = esc(labels[i] ?? '')
      return `<rect x="${x.toFixed(1)}" y="${(H + H - PAD - h).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="#4a7"/>` +
        `<text x="${(x + bw / 2).toFixed(1)}" y="${2 * H - PAD + 12}" font-size="9" text-anchor="middle">${label}</text>`
    })
    .join('')
  const title = esc(`${r.options.method ?? 'GET'} ${r.options.url} c=${r.options.connections} — ${r.requests} req, p99 ${r.latency.p99} ms`)
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${2 * H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${PAD}" y="16" font-size="12">${title}</text>
<text x="${PAD}" y="30" font-size="10" fill="#36c">req/s (max ${maxRps})</text>
<text x="${W - PAD}" y="30" font-size="10" fill="#c33" text-anchor="end">p99 ms (max ${maxP99})</text>
${line(rps, maxRps, 0, '#36c')}
${line(p99, maxP99, 0, '#c33')}
<text x="${PAD}" y="${H - PAD + 12}" font-size="9" fill="#666">0 s</text>
<text x="${W - PAD}" y="${H - PAD + 12}" font-size="9" fill="#666" text-anchor="end">${lastT} s</text>
${note ? `<text x="${PAD}" y="${H - PAD + 26}" font-size="9" fill="#666">${esc(note)}</text>` : ''}
<text x="${PAD}" y="${H + 16}" font-size="10">latency histogram (ms)</text>
${bars}
</svg>
`
}
