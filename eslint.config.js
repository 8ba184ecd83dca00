import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'data/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // The arrows of DESIGN.md: http, ui and cli -> services -> core, store, delivery. A layer may
  // import another's types, never run its code the wrong way round.
  {
    files: ['src/http/**', 'src/ui/**', 'src/cli/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['**/store', '**/store/*', '**/store/**'], allowTypeImports: true, message: 'http, ui and cli reach the database only through services (DESIGN.md, "Parts").' }] }],
    },
  },
  {
    files: ['src/core/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['../*', '../**'], message: 'core imports nothing of the project.' }] }],
    },
  },
  {
    files: ['src/services/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['**/http', '**/http/**', '**/cli', '**/cli/**', '**/ui', '**/ui/**'], message: 'services never import the HTTP layer, the pages or the CLI.' }] }],
    },
  },
  {
    files: ['src/store/**', 'src/delivery/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['**/services', '**/services/**', '**/http', '**/http/**', '**/cli', '**/cli/**', '**/ui', '**/ui/**'], message: 'store and delivery never reach up into services, the HTTP layer, the pages or the CLI.' }] }],
    },
  },
);
