import { describe, expect, it } from 'vitest'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { usableCpus } from '../../../src/server/platform/cpus.js'
import { parseSize } from '../../../src/server/platform/size.js'

function fakeCgroup(files: Record<string, string>): string {
  const root = mkdtempSync(join(os.tmpdir(), 'paddock-cgroup-'))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true })
    writeFileSync(join(root, path), text + '\n')
  }
  return root
}

describe('usable CPUs (-w max)', () => {
  it('is availableParallelism when no cgroup sets a quota', () => {
    const root = fakeCgroup({ 'user.slice/cpu.max': 'max 100000' })
    expect(usableCpus({ cgroupRoot: root, procSelfCgroup: '0::/user.slice', availableParallelism: 8 }).count).toBe(8)
  })

  it('is lowered by a cgroup v2 quota, rounded up', () => {
    const root = fakeCgroup({ 'kubepods/pod1/ctr/cpu.max': '150000 100000' })
    const r = usableCpus({ cgroupRoot: root, procSelfCgroup: '0::/kubepods/pod1/ctr', availableParallelism: 64 })
    expect(r.count).toBe(2)
    expect(r.why).toContain('cpu.max 150000 100000')
  })

  it('takes the tightest quota of any level up to the root', () => {
    const root = fakeCgroup({ 'kubepods/cpu.max': '100000 100000', 'kubepods/pod1/cpu.max': 'max 100000', 'kubepods/pod1/ctr/cpu.max': '400000 100000' })
    expect(usableCpus({ cgroupRoot: root, procSelfCgroup: '0::/kubepods/pod1/ctr', availableParallelism: 16 }).count).toBe(1)
  })

  it('reads cgroup v1 cfs quota and period', () => {
    const root = fakeCgroup({ 'cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '300000', 'cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000' })
    expect(usableCpus({ cgroupRoot: root, procSelfCgroup: '5:cpu,cpuacct:/docker/abc\n3:memory:/docker/abc', availableParallelism: 32 }).count).toBe(3)
  })

  it('never goes above the affinity mask, nor below 1', () => {
    const root = fakeCgroup({ 'a/cpu.max': '800000 100000', 'b/cpu.max': '1000 100000' })
    expect(usableCpus({ cgroupRoot: root, procSelfCgroup: '0::/a', availableParallelism: 2 }).count).toBe(2)
    expect(usableCpus({ cgroupRoot: root, procSelfCgroup: '0::/b', availableParallelism: 2 }).count).toBe(1)
  })

  it('on this machine equals availableParallelism or less', () => {
    expect(usableCpus().count).toBeLessThanOrEqual(os.availableParallelism())
  })
})

describe('sizes', () => {
  it('reads the units operators write', () => {
    expect(parseSize('512M')).toBe(512 * 1024 ** 2)
    expect(parseSize('1.5G')).toBe(1.5 * 1024 ** 3)
    expect(parseSize('800k')).toBe(800 * 1024)
    expect(parseSize('1048576')).toBe(1048576)
    expect(parseSize(4096)).toBe(4096)
  })
  it('refuses what is not a size, saying how to write one', () => {
    expect(() => parseSize('lots')).toThrow(/512M/)
    expect(() => parseSize('12 parsecs')).toThrow(/not a size/)
    expect(() => parseSize(-1)).toThrow()
  })
})
