import { describe, expect, it } from 'vitest';
import { ModelError, isModelError } from './errors';

describe('ModelError', () => {
  it('carries code, data and cause, and serialises to JSON', () => {
    const cause = new Error('disk full');
    const error = new ModelError('SAVE_FAILED', 'saving /tmp/m failed: disk full', {
      cause,
      data: { path: '/tmp/m' },
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ModelError');
    expect(error.cause).toBe(cause);
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'ModelError',
      code: 'SAVE_FAILED',
      message: 'saving /tmp/m failed: disk full',
      data: { path: '/tmp/m' },
      cause: { name: 'Error', message: 'disk full' },
    });
  });

  it.each([
    [new ModelError('INTEGRITY', 'x'), true],
    [
      Object.assign(new Error('from another copy of the package'), {
        name: 'ModelError',
        code: 'INTEGRITY',
      }),
      true,
    ],
    [new Error('plain'), false],
    [{ name: 'ModelError', code: 'INTEGRITY' }, false],
    [null, false],
  ])('isModelError(%o) is %s', (value, expected) => {
    expect(isModelError(value)).toBe(expected);
  });
});
