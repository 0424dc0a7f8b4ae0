/** A small parser of the Prometheus text format: returns families, throws on any malformed line. */
export function parseExposition(text: string) {
  const types = new Map<string, string>()
  const samples: { name: string; labels: Record<string, string>; value: number }[] = []
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
  for (const line of text.split('\n')) {
    if (line === '') continue
    if (line.startsWith('# HELP ')) continue
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ')
      if (!NAME.test(name!)) throw new Error(`bad name in TYPE: ${line}`)
      if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type!)) throw new Error(`bad type: ${line}`)
      types.set(name!, type!)
      continue
    }
    const brace = line.indexOf('{')
    const space = line.lastIndexOf(' ')
    const name = brace >= 0 ? line.slice(0, brace) : line.slice(0, space)
    if (!NAME.test(name)) throw new Error(`bad metric name: ${line}`)
    // a histogram's samples are its name with _bucket, _sum or _count
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '')
    if (!types.has(family) || (family !== name && types.get(family) !== 'histogram')) throw new Error(`sample before its TYPE: ${line}`)
    const labels: Record<string, string> = {}
    if (brace >= 0) {
      const body = line.slice(brace + 1, line.lastIndexOf('}'))
      for (const m of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/g)) labels[m[1]!] = m[2]!
      if (Object.keys(labels).length !== body.split('",').length) throw new Error(`bad labels: ${line}`)
    }
    const value = Number(line.slice(space + 1))
    if (!Number.isFinite(value)) throw new Error(`bad value: ${line}`)
    if (types.get(name) === 'counter' && !name.endsWith('_total')) throw new Error(`counter without _total: ${name}`)
    samples.push({ name, labels, value })
  }
  // histograms: per series, buckets cumulative in increasing le, ending at +Inf = _count
  for (const [family, type] of types) {
    if (type !== 'histogram') continue
    const series = new Map<string, { le: number; value: number }[]>()
    const key = (l: Record<string, string>) => JSON.stringify(Object.entries(l).filter(([k]) => k !== 'le').sort())
    for (const x of samples.filter((x) => x.name === `${family}_bucket`)) {
      if (x.labels.le === undefined) throw new Error(`bucket without le: ${family}`)
      const list = series.get(key(x.labels)) ?? []
      list.push({ le: x.labels.le === '+Inf' ? Infinity : Number(x.labels.le), value: x.value })
      series.set(key(x.labels), list)
    }
    for (const [k, list] of series) {
      for (let i = 1; i < list.length; i++) {
        if (!(list[i]!.le > list[i - 1]!.le) || list[i]!.value < list[i - 1]!.value) throw new Error(`${family}${k}: buckets not cumulative in increasing le`)
      }
      if (list.at(-1)!.le !== Infinity) throw new Error(`${family}${k}: no +Inf bucket`)
      const count = samples.find((x) => x.name === `${family}_count` && key(x.labels) === k)
      if (!count || count.value !== list.at(-1)!.value) throw new Error(`${family}${k}: _count differs from the +Inf bucket`)
      if (!samples.some((x) => x.name === `${family}_sum` && key(x.labels) === k)) throw new Error(`${family}${k}: no _sum`)
    }
  }
  return { types, samples }
}
