// Local times print the same on every machine (the seed rows in docs/sql/mssql-schema.sql).
process.env.TZ = 'UTC';

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
    // @fastify/send and light-my-request pull in content-disposition 3 and cookie 2, and the codec's
    // OIDC check uses jose 6: all ship ESM only; node itself loads them via require(esm), jest's
    // module system does not.
    '^.+/node_modules/(content-disposition|cookie|jose)/.+\\.js$': [
      '@swc/jest',
      { module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(content-disposition|cookie|jose)/)'],
  // One Temporal dev server (and one workflow bundle) for the whole run; see test/support/global-setup.ts.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
};
