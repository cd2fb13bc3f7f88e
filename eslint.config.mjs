// Lint: no floating promises, apps import packages only through their public entry, zero warnings.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/generated/**', '**/*.mjs', '**/*.js', '.bench/**', '.data/**'] },
  {
    files: ['apps/*/src/**/*.ts', 'packages/*/src/**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@ragnest/*/src', '@ragnest/*/src/*', '@ragnest/*/dist', '@ragnest/*/dist/*'], message: 'Import packages through their public entry (@ragnest/<name>).' },
            { group: ['../../packages/*', '../../../packages/*', '../../../../packages/*'], message: 'Apps import packages as @ragnest/<name>, never by path.' },
          ],
        },
      ],
    },
  },
);
