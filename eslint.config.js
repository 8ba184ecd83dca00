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
  // Route files import nothing from each other: what two of them share lives in a kit
  // (src/http/page-kit.ts, src/http/pages/, src/http/api-kit.ts). The store arrow above is
  // repeated because this block's options replace it for these files.
  {
    files: ['src/http/routes/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/store', '**/store/*', '**/store/**'], allowTypeImports: true, message: 'http, ui and cli reach the database only through services (DESIGN.md, "Parts").' },
            { group: ['./*'], message: 'Route files import nothing from each other: move what they share into the page kit (src/http/pages/) or the API kit (src/http/api-kit.ts).' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/core/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['../*', '../**'], message: 'core imports nothing of the project.' }] }],
    },
  },
  {
    // core/flows/ may use core itself (errors), nothing above it.
    files: ['src/core/*/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['../../*', '../../**'], message: 'core imports nothing of the project.' }] }],
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
