import { describe, expect, it } from 'vitest';
import { DataError, isDataError } from './errors';

describe('DataError', () => {
  it('carries code, data and cause, and serialises them', () => {
    const cause = new Error('ENOENT: no such file');
    const e = new DataError('FILE_NOT_FOUND', 'IDX images file not found: /x', {
      cause,
      data: { path: '/x' },
    });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('DataError');
    expect(e.cause).toBe(cause);
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      name: 'DataError',
      code: 'FILE_NOT_FOUND',
      message: 'IDX images file not found: /x',
      data: { path: '/x' },
      cause: 'ENOENT: no such file',
    });
  });

  it.each([
    [new DataError('INVALID_ARGUMENT', 'x'), true],
    [Object.assign(new Error('from another copy'), { name: 'DataError', code: 'BAD_MAGIC' }), true],
    [new Error('plain'), false],
    [{ name: 'DataError', code: 'BAD_MAGIC' }, false],
    [undefined, false],
  ])('isDataError(%s) is %s', (value, expected) => {
    expect(isDataError(value)).toBe(expected);
  });
});
