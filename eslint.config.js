import js from '@eslint/js'
import tseslint from 'typescript-eslint'

// Module boundaries (who imports whom, through which index, which packages) are checked by
// dependency-cruiser on the resolved import graph: see .dependency-cruiser.cjs, run by `npm run lint`.
export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.countersign/**', '.countersign-dev/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly' },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
    },
  },
  {
    // Plain JavaScript configuration files are outside the TypeScript project.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
)
