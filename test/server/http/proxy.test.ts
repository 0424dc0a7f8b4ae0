import { describe, expect, it } from 'vitest'
import { isTrusted } from '../../../src/server/http/proxy.js'
import { runCli, DEMO } from '../../helpers/proc.js'

describe('forwarded_allow_ips', () => {
  it('trusts listed addresses, CIDR subnets of either family, IPv4-mapped peers, and * for all', () => {
    expect(isTrusted('127.0.0.1', '127.0.0.1,::1')).toBe(true)
    expect(isTrusted('::1', '127.0.0.1,::1')).toBe(true)
    expect(isTrusted('10.20.30.40', '127.0.0.1, 10.0.0.0/8')).toBe(true)
    expect(isTrusted('::ffff:10.20.30.40', '10.0.0.0/8')).toBe(true)
    expect(isTrusted('11.0.0.1', '10.0.0.0/8')).toBe(false)
    expect(isTrusted('fd00::1234', 'fd00::/8')).toBe(true)
    expect(isTrusted('fe80::1', 'fd00::/8')).toBe(false)
    expect(isTrusted('203.0.113.9', '*')).toBe(true)
    expect(isTrusted('203.0.113.9', '127.0.0.1')).toBe(false)
  })

  it('refuses a malformed list at start-up with the entry that is wrong', async () => {
    for (const bad of ['10.0.0.0/33', 'not-an-ip', '10.0.0.1/8/2']) {
      const r = await runCli(['--forwarded-allow-ips', bad, '--check-config', DEMO])
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(`--forwarded-allow-ips`)
      expect(r.stderr).toContain(bad)
    }
  })
})
