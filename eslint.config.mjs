// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const ROLES = ['api', 'bridge', 'workers', 'workflows', 'activities', 'scripts', 'bench', 'test'];

/**
 * The folder table in DESIGN.md as lint: files in `folder` may not import from `forbidden` folders,
 * so dependencies point one way (entry points → temporal/db/providers → domain) and never back up.
 */
function boundary(folder, forbidden, why) {
  return {
    files: [`${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: `^(\\.\\./)+(${forbidden.join('|')})(/|$)`, message: `${folder}/ ${why}` }] },
      ],
    },
  };
}

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
  boundary(
    'domain',
    [...ROLES, 'db', 'providers', 'temporal', 'runtime', 'config', 'migrations'],
    'is pure code',
  ),
  boundary('db', [...ROLES, 'providers', 'temporal', 'runtime'], 'may import only domain/ and config/'),
  boundary('providers', [...ROLES, 'temporal', 'runtime'], 'may import only domain/, config/ and db/knex'),
  boundary('temporal', [...ROLES, 'db', 'providers', 'runtime'], 'is Temporal plumbing over domain/'),
  boundary('runtime', [...ROLES, 'db', 'providers', 'temporal'], 'is shared by the API and the bridge'),
  boundary(
    'rollout',
    [...ROLES, 'providers', 'temporal'],
    'is the flag and pause logic over db/ and domain/ (workflows import control.ts alone)',
  ),
  boundary(
    'activities',
    ['api', 'bridge', 'workers', 'workflows', 'scripts', 'bench', 'test', 'runtime'],
    'gets its I/O from the worker (ActivityDeps)',
  ),
  boundary(
    'bridge',
    ['api', 'workers', 'workflows', 'activities', 'db', 'providers', 'scripts', 'bench', 'test'],
    'starts workflows through temporal/',
  ),
  boundary(
    'api',
    ['bridge', 'workers', 'workflows', 'activities', 'scripts', 'bench', 'test'],
    'serves HTTP over db/, temporal/ and providers/',
  ),
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
