import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'
import { fileURLToPath } from 'node:url'

// One project per layer. Engine, reliability and e2e tests start real processes and
// servers on 127.0.0.1: they run one file at a time so a 2-core machine is not
// oversubscribed, and every test stops what it started by pid.
//
// Where tests live: test/<layer>/<folder>/ mirrors src/<layer>/<folder>/ (a test of
// src/server/arbiter/rates.ts is test/server/arbiter/rates.test.ts, of src/main is test/main,
// of src/shared is test/shared); test/helpers and test/fixtures serve them all.
//
// src/ or dist/: a test imports the code it checks from src/ (vitest compiles the
// TypeScript), except
//  - a module that forks a built file beside itself (Host and the Arbiter fork
//    dist/server/worker/main.js, startLoad forks dist/server/loadgen/runner.js): it comes
//    from dist/, and so does everything the test hands to it, so each class has one copy;
//  - a test that starts paddock as a process (test/helpers/proc.ts runs bin/paddock.mjs,
//    which imports dist/server/cli/main.js) runs dist/ whatever it imports.
// Both need `npm run build:server` after a change to src/server or src/shared (npm test
// builds first); a pure unit test on src/ does not.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          // the engine, plus the shared protocol helpers (test/shared); Electron main's pure
          // modules have their own project below
          name: 'server',
          include: ['test/server/**/*.test.ts', 'test/shared/**/*.test.ts'],
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
        // the renderer's '@shared/...' imports, as electron.vite.config.ts resolves them
        resolve: { alias: { '@shared': fileURLToPath(new URL('./src/shared', import.meta.url)) } },
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
