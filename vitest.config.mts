import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Native addons and worker-thread pools do not mix: every test file gets its own process.
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
