import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The example property test is run too, so that it keeps working as the API changes.
    include: ['test/**/*.test.ts', 'property-tests/**/*.test.ts', 'examples/**/*.property.test.ts'],
    setupFiles: ['property-tests/setup.ts'],
    globalSetup: ['test/build-dist.ts'],
    // The JSON report is what .ci/run counts; the default reporter is what people read.
    reporters: ['default', 'json'],
    outputFile: { json: '.test-report.json' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
