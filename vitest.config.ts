import { defineConfig } from 'vitest/config'

const inCi = process.env.CI === 'true'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Names the run's PostgreSQL schemas, says why PostgreSQL tests skip, and drops what a run left.
    globalSetup: ['test/support/postgres-run.ts'],
    // In CI a JSON report is kept too, so .ci/run can print the plain "N passed, N failed" line.
    reporters: inCi ? ['default', 'json'] : ['default'],
    ...(inCi ? { outputFile: { json: 'test-results.json' } } : {}),
  },
})
