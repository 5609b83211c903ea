// ESLint: what the formatter cannot see. Above all, the layers import one way
// (addon <- raw client <- facade <- command line): no import cycle in src/.
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default [
  { ignores: ['dist/', 'build/', 'node_modules/', 'docs/'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    ...importX.flatConfigs.typescript,
    languageOptions: { parser: tseslint.parser, ecmaVersion: 'latest', sourceType: 'module' },
    // Imports name './x.js' for './x.ts' (NodeNext): the TypeScript resolver maps them.
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver()],
    },
    rules: {
      // A cycle means two modules are one concept, or a type lives in the wrong one.
      // Lazy import() counts too: it is still a dependency of the module.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
    },
  },
  {
    // 120 columns, as prettier.config.mjs. Tests keep wide tables of cases.
    files: ['src/**/*.ts'],
    rules: { 'max-len': ['error', { code: 120, ignoreUrls: true, ignoreRegExpLiterals: true }] },
  },
];
