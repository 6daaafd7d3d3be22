import { describe, expect, it } from 'vitest';
import { contractSections, listedErrorCodes } from './contracts';

const page = `# contracts

## @mlship/core (shared)

- Shared codes (\`SHARED_ERROR_CODES\`): \`INVALID_OPTION\` (bad option; \`data.path\`),
  \`INTEGRITY\` (\`data.reason\` in \`missing | size\`).
- Names: \`MODEL_META_FILE\` is not a code.

## @mlship/data (no tf)

- Errors: \`DataError\` with \`code\` in \`'FILE_NOT_FOUND' | 'READ_FAILED' |
'PEER_MISSING'\` (\`DATA_ERROR_CODES\`); \`isDataError(e)\`.
- Other: 'NOT_A_CODE_HERE'

## @mlship/cli (the command)

- Errors: \`CliError\` with \`code\` in \`SharedErrorCode | 'USAGE'\`.

## 2. The model directory

- Errors: 'IGNORED'

### Writing it: @mlship/tf

- Promise: atomic.

#### Loading

- Errors: \`TfError\` with \`code\` in \`'NOT_A_MODEL_DIR' | 'WEIGHTS_MISMATCH'\`.

### Both @mlship/model and @mlship/tf

- Errors: 'ALSO_IGNORED'
`;

describe('contracts page parsing', () => {
  const sections = contractSections(page);

  it('finds one section per ## or ### heading naming one package, and none for other headings', () => {
    expect([...sections.keys()]).toEqual([
      '@mlship/core',
      '@mlship/data',
      '@mlship/cli',
      '@mlship/tf',
    ]);
  });

  it.each([
    ['@mlship/core', ['INTEGRITY', 'INVALID_OPTION'], false],
    ['@mlship/data', ['FILE_NOT_FOUND', 'PEER_MISSING', 'READ_FAILED'], false],
    ['@mlship/cli', ['USAGE'], true],
    ['@mlship/tf', ['NOT_A_MODEL_DIR', 'WEIGHTS_MISMATCH'], false],
  ])('%s lists %j (shared: %s), only from its errors item', (name, codes, shared) => {
    const listed = listedErrorCodes(sections.get(name) ?? '');
    expect([...(listed?.codes ?? [])].sort()).toEqual(codes);
    expect(listed?.includesShared).toBe(shared);
  });

  it('a section without an errors item gives undefined', () => {
    expect(listedErrorCodes('- Names: nothing here')).toBeUndefined();
  });
});
