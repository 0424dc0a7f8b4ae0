/**
 * Headers in every shape `writeHead` takes them: an object, a flat [name, value, ...] array
 * or a nested [[name, value], ...] one.
 */

/** The header `name` (lower case) in `headers`, or null when it is not there. */
export function findHeader(headers: unknown, name: string): { value: unknown } | null {
  if (Array.isArray(headers)) {
    if (Array.isArray(headers[0])) {
      for (const h of headers as unknown[][]) if (String(h[0]).toLowerCase() === name) return { value: h[1] }
    } else {
      for (let i = 0; i < headers.length; i += 2) if (String(headers[i]).toLowerCase() === name) return { value: headers[i + 1] }
    }
  } else if (headers && typeof headers === 'object') {
    // the length first: this runs for every response that passes an object to writeHead
    for (const k in headers) if (k.length === name.length && k.toLowerCase() === name) return { value: (headers as Record<string, unknown>)[k] }
  }
  return null
}
