import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.countersign/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      // Modules talk to each other only through their index.ts (see ../shared/DESIGN.md).
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // `../<module>/<file>` or `../../<module>/<file>` where <file> is anything but index.js.
              regex: '^(\\.\\./){1,2}[\\w-]+/(?!index\\.js$).+',
              message: 'Import another module through its index.js only.',
            },
          ],
        },
      ],
    },
  },
)
