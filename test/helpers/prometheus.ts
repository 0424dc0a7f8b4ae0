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
    if (!types.has(name)) throw new Error(`sample before its TYPE: ${line}`)
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
  return { types, samples }
}
