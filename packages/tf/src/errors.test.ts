import { describe, expect, it } from 'vitest';
import { MlshipError, isMlshipError } from '@mlship/core';
import { TfError, isTfError } from './errors';

describe('TfError', () => {
  it('carries code, name, data and cause, and serialises them with the cause kept', () => {
    const cause = new Error('ENOENT: no such file');
    const e = new TfError('NOT_A_MODEL_DIR', 'No model at /m: /m/model.json does not exist', {
      cause,
      data: { path: '/m/model.json' },
    });
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(MlshipError);
    expect(isMlshipError(e, 'NOT_A_MODEL_DIR')).toBe(true);
    expect(e.name).toBe('TfError');
    expect(e.code).toBe('NOT_A_MODEL_DIR');
    expect(e.cause).toBe(cause);
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      name: 'TfError',
      code: 'NOT_A_MODEL_DIR',
      message: 'No model at /m: /m/model.json does not exist',
      data: { path: '/m/model.json' },
      cause: { name: 'Error', message: 'ENOENT: no such file' },
    });
  });

  it.each([
    [new TfError('SAVE_FAILED', 'x'), true],
    // Another copy of the package (e.g. the CJS build next to the ESM one): same name and a code.
    [Object.assign(new Error('x'), { name: 'TfError', code: 'SAVE_FAILED' }), true],
    [new Error('x'), false],
    [{ name: 'TfError', code: 'SAVE_FAILED' }, false],
    ['TfError', false],
  ])('isTfError(%o) is %s', (value, expected) => {
    expect(isTfError(value)).toBe(expected);
  });
});
