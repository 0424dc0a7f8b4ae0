import { describe, expect, it } from 'vitest'
import { boundAddress } from '../../src/shared/listeners.js'

describe('boundAddress', () => {
  it('shows the address actually bound', () => {
    expect(boundAddress({ kind: 'tcp', bind: '127.0.0.1:0', host: '127.0.0.1', port: 41234 })).toBe('127.0.0.1:41234')
    expect(boundAddress({ kind: 'tcp', bind: '[::1]:0', host: '::1', port: 8000 })).toBe('[::1]:8000')
    expect(boundAddress({ kind: 'unix', bind: 'unix:/run/a.sock', path: '/run/a.sock' })).toBe('unix:/run/a.sock')
    // not known (yet): the bind as written
    expect(boundAddress({ kind: 'tcp', bind: 'fd://3' })).toBe('fd://3')
  })
})
