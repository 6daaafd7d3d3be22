import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** A relative specifier that spells out a file extension (`./x.js`), which the house style forbids. */
const RELATIVE_WITH_EXTENSION = '^\\.{1,2}/(?:.*/)?[^/]+\\.(?:[cm]?[jt]s|tsx|jsx)$';

/**
 * Rules that other packages' owners still have violations of (counted when these rules came in).
 * They warn there until the owner fixes them, then the entry is removed and the rule is an error
 * everywhere. Everything not listed here is an error in every package.
 */
const WARN_ONLY = {
  // 'packages/<name>/**': ['<rule>'],
};

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/coverage/**',
      '**/.turbo/**',
      '**/test/fixtures/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // Type-aware linting: each file is checked with the tsconfig.json nearest to it.
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [
        createNodeResolver({
          extensions: ['.ts', '.d.ts', '.js', '.mjs', '.cjs', '.json'],
          // Until every package imports extensionless, `./x.js` must still resolve to x.ts.
          extensionAlias: { '.js': ['.ts', '.js'] },
        }),
      ],
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Named exports only (STYLE.md).' },
        { selector: 'ExportAllDeclaration', message: 'Re-export names explicitly (STYLE.md).' },
        {
          // esquery's regex syntax has no groups or slashes: a relative specifier ending in .js/.ts/...
          selector: 'ImportExpression > Literal[value=/^[.].*[.][cm]?[jt]sx?$/]',
          message: "Relative imports are extensionless: import('./x'), not import('./x.js').",
        },
      ],
      // One relative-import style: extensionless (`./errors`, not `./errors.js`).
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: RELATIVE_WITH_EXTENSION,
              message: "Relative imports are extensionless: './x', not './x.js' (STYLE.md).",
            },
          ],
        },
      ],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // A file past ~700 lines of code is usually several concepts: split it (STYLE.md).
      'max-lines': ['warn', { max: 700, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Plain Node scripts: no type information (they are not part of any tsconfig), Node globals,
    // and Node ESM needs the extension on relative imports.
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { console: 'readonly', process: 'readonly', URL: 'readonly', Buffer: 'readonly' },
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // vitest's asymmetric matchers (`expect.stringMatching`, `expect.any`) are typed `any`.
    files: ['**/*.test.ts', '**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    files: ['**/tsup.config.ts', '**/vitest.config.ts', 'vitest.config.ts', 'eslint.config.js'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  ...Object.entries(WARN_ONLY).map(([glob, rules]) => ({
    files: [glob],
    // Severity only: the options set above are kept.
    rules: Object.fromEntries(rules.map((rule) => [rule, 'warn'])),
  })),
);
