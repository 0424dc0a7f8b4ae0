import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

// One project per layer. Engine, reliability and e2e tests start real processes and
// servers on 127.0.0.1: they run one file at a time so a 2-core machine is not
// oversubscribed, and every test stops what it started by pid.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'server',
          include: ['test/server/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'main',
          include: ['test/main/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        // packs the tarball and installs it: one file at a time, with room for npm
        test: {
          name: 'package',
          include: ['test/package/**/*.test.ts'],
          environment: 'node',
          testTimeout: 150_000,
          hookTimeout: 150_000,
          fileParallelism: false,
        },
      },
      {
        plugins: [vue()],
        test: {
          name: 'renderer',
          include: ['test/renderer/**/*.test.ts'],
          environment: 'happy-dom',
        },
      },
      {
        test: {
          name: 'reliability',
          include: ['test/reliability/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
