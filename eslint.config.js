// Lint is part of `npm test`. The Raft core must stay deterministic: time and
// randomness come in from the driver, so the core may not reach for them.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nondeterminism = [
  { name: 'setTimeout', message: 'The Raft core is driven by tick(); timers belong to the driver.' },
  { name: 'setInterval', message: 'The Raft core is driven by tick(); timers belong to the driver.' },
  { name: 'setImmediate', message: 'The Raft core is driven by tick(); timers belong to the driver.' },
  { name: 'performance', message: 'The Raft core has no clock.' },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tap/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/raft/core/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', ...nondeterminism],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'The Raft core has no wall clock; ticks come from the driver.' },
        { object: 'Math', property: 'random', message: 'The Raft core takes a seeded PRNG from outside.' },
        { object: 'process', property: 'hrtime', message: 'The Raft core has no clock.' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date']", message: 'The Raft core has no wall clock.' },
      ],
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['node:*', 'fs', 'net', 'http2', 'classic-level', '@grpc/*'], message: 'The Raft core does no I/O.' }] },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', 'bin/*'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
