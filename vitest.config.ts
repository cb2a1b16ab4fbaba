import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Timing scenarios measure the JS thread's own time: a test file running beside them on a
    // 2-core machine would steal their CPU and show up as "running".
    fileParallelism: false,
  },
});
