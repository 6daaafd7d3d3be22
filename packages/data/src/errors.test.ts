import { SHARED_ERROR_CODES, isMlshipError } from '@mlship/core';
import { describe, expect, it } from 'vitest';
import { DATA_ERROR_CODES, DataError, isDataError } from './errors';

describe('DataError', () => {
  it('carries code, data and cause, and serialises them with the cause chain', () => {
    const cause = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    const e = new DataError('FILE_NOT_FOUND', 'IDX images file not found: /x', {
      cause,
      data: { path: '/x' },
    });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('DataError');
    expect(e.cause).toBe(cause);
    expect(isMlshipError(e, 'FILE_NOT_FOUND')).toBe(true);
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      name: 'DataError',
      code: 'FILE_NOT_FOUND',
      message: 'IDX images file not found: /x',
      data: { path: '/x' },
      cause: { name: 'Error', message: 'ENOENT: no such file', code: 'ENOENT' },
    });
  });

  it.each([
    [new DataError('INVALID_OPTION', 'x'), true],
    [Object.assign(new Error('from another copy'), { name: 'DataError', code: 'BAD_MAGIC' }), true],
    [new Error('plain'), false],
    [{ name: 'DataError', code: 'BAD_MAGIC' }, false],
    [undefined, false],
  ])('isDataError(%s) is %s', (value, expected) => {
    expect(isDataError(value)).toBe(expected);
  });

  it('uses the shared vocabulary: INVALID_OPTION and READ_FAILED, no INVALID_ARGUMENT', () => {
    const codes: readonly string[] = DATA_ERROR_CODES;
    expect(codes).toContain('INVALID_OPTION');
    expect(codes).not.toContain('INVALID_ARGUMENT');
    const shared: readonly string[] = SHARED_ERROR_CODES;
    expect(codes.filter((c) => shared.includes(c)).sort()).toEqual([
      'INVALID_OPTION',
      'READ_FAILED',
    ]);
  });
});
