/** Sizes as operators write them: 512M, 1.5G, 800K, 1048576 (bytes). Powers of 1024, as PM2's max_memory_restart. */
const UNITS: Record<string, number> = { '': 1, B: 1, K: 1024, KB: 1024, KIB: 1024, M: 1024 ** 2, MB: 1024 ** 2, MIB: 1024 ** 2, G: 1024 ** 3, GB: 1024 ** 3, GIB: 1024 ** 3 }

export function parseSize(input: string | number): number {
  if (typeof input === 'number') {
    if (Number.isFinite(input) && input >= 0) return Math.floor(input)
    throw new Error(`not a size: ${input}`)
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(input)
  const unit = m ? UNITS[m[2].toUpperCase()] : undefined
  if (!m || unit === undefined) throw new Error(`not a size: '${input}' (write e.g. 512M, 1.5G, 800K or a number of bytes)`)
  return Math.floor(Number(m[1]) * unit)
}

export function formatSize(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`
  if (bytes >= 1024 ** 2) return `${Math.round(bytes / 1024 ** 2)} MiB`
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KiB`
  return `${bytes} B`
}
