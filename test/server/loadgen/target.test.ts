import { describe, expect, it } from 'vitest'
import { startLoad, urlProblem } from '../../../dist/server/loadgen/index.js'

describe('load targets', () => {
  it.each([
    ['nope', /neither a URL nor a path: .*\/nope/],
    ['localhost:8000/x', /no scheme: write http:\/\/localhost:8000\/x/],
    ['http://127.0.0.1:99999/', /not a valid URL .*port/],
    ['ftp://127.0.0.1/', /not http/],
  ])('%s is refused with the reason', (url, why) => {
    expect(urlProblem(url)).toMatch(why)
  })

  it('accepts http and https URLs', () => {
    expect(urlProblem('http://127.0.0.1:8000/io?ms=100')).toBeNull()
    expect(urlProblem('https://[::1]:8443/')).toBeNull()
  })

  it('the CLI form does not suggest a path it cannot resolve', () => {
    expect(urlProblem('nope', false)).toBe('"nope" is not a URL: write a full URL such as http://127.0.0.1:8000/nope')
  })

  it('startLoad refuses a bad target before forking anything', () => {
    let err: (Error & { code?: string }) | null = null
    try {
      startLoad({ url: 'nope', connections: 1, duration: 1, keepAlive: true })
    } catch (e) {
      err = e as Error & { code?: string }
    }
    expect(err?.code).toBe('PADDOCK_ERR_INVALID_VALUE')
    expect(err?.message).toMatch(/"nope"/)
    expect(() => startLoad({ url: 'http://127.0.0.1:9/', connections: 1, duration: 1, keepAlive: true, warmup: -1 })).toThrow(/warmup/)
  })
})
