import js from '@eslint/js'
import tseslint from 'typescript-eslint'

// Module boundaries (who imports whom, through which index, which packages) are checked by
// dependency-cruiser on the resolved import graph: see .dependency-cruiser.cjs, run by `npm run lint`.
export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.countersign/**', '.countersign-dev/**'] },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable' } } },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      // A `default` branch is an explicit choice for the cases it covers.
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      // An async function that implements a Promise-returning interface need not await anything.
      '@typescript-eslint/require-await': 'off',
      // An AbortSignal's reason is `any`: passing it on as the rejection is what fetch and timers do.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true }],
    },
  },
  {
    // Tests read JSON answers and payloads as `any` on purpose: the assertions are what check their shape.
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The consoles' page script runs in browsers.
    files: ['console/assets/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: {
        document: 'readonly',
        window: 'readonly',
        location: 'readonly',
        fetch: 'readonly',
        URLSearchParams: 'readonly',
        EventSource: 'readonly',
        SimpleWebAuthnBrowser: 'readonly',
      },
    },
  },
  {
    // Plain JavaScript configuration files are outside the TypeScript project.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
)
