// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', '.tools/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly', process: 'readonly' },
    },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code is bundled and replayed: keep Node built-ins and I/O libraries out of it.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'crypto', 'http', 'https', 'net'],
              message: 'workflows/ must stay deterministic',
            },
            {
              group: [
                'knex',
                'pg',
                'better-sqlite3',
                'pino',
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
              ],
              message: 'workflows/ must stay deterministic',
            },
            {
              // Activity and DB *types* describe the workflow's calls; their code never enters the bundle.
              group: [
                '../db',
                '../db/*',
                '../providers/*',
                '../activities',
                '../activities/*',
                '../api/*',
                '../config',
                '../config/*',
              ],
              message: 'workflows/ may import only domain/, temporal/ contracts and activity types',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
