import { describe, expect, it } from 'vitest';
import { workerExecArgv } from './exec-argv';

describe('workerExecArgv', () => {
  it.each([
    [
      ['--input-type=module', '-e', 'code'],
      ['-e', 'code'],
    ],
    [
      ['--input-type', 'module', '-e', 'code'],
      ['-e', 'code'],
    ],
    [
      ['--experimental-default-type=module', '--import', 'tsx'],
      ['--import', 'tsx'],
    ],
    [
      ['--max-old-space-size=512', '--conditions', 'dev'],
      ['--max-old-space-size=512', '--conditions', 'dev'],
    ],
    [[], []],
  ])('keeps what a worker may inherit from %j: %j', (argv, expected) => {
    expect(workerExecArgv(argv)).toEqual(expected);
  });
});
