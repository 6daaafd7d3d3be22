import { describe, expect, it } from 'vitest';
import {
  CoreError,
  MlshipError,
  asPackageError,
  errorGuard,
  isCoreError,
  isMlshipError,
} from './errors';
import type { SharedErrorCode } from './errors';

type ShopCode = SharedErrorCode | 'OUT_OF_STOCK';
class ShopError extends MlshipError<ShopCode> {
  override name = 'ShopError';
}
const isShopError = errorGuard('ShopError', ShopError);

describe('MlshipError', () => {
  it('carries code, data and cause, and is an Error with its class name', () => {
    const cause = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    const e = new ShopError('OUT_OF_STOCK', 'item "x" is out of stock', {
      cause,
      data: { path: 'x' },
    });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ShopError');
    expect(e.code).toBe('OUT_OF_STOCK');
    expect(e.data).toEqual({ path: 'x' });
    expect(e.cause).toBe(cause);
    expect(String(e)).toBe('ShopError: item "x" is out of stock');
  });

  it('toJSON keeps the cause chain (mlship causes in full, foreign ones as name/message/code)', () => {
    const inner = new CoreError('INTEGRITY', 'model.json was modified', {
      cause: Object.assign(new Error('disk'), { code: 'EIO' }),
      data: { path: 'model.json', reason: 'sha256' },
    });
    const outer = new ShopError('READ_FAILED', 'reading failed', { cause: inner });
    expect(JSON.parse(JSON.stringify(outer))).toEqual({
      name: 'ShopError',
      code: 'READ_FAILED',
      message: 'reading failed',
      cause: {
        name: 'CoreError',
        code: 'INTEGRITY',
        message: 'model.json was modified',
        data: { path: 'model.json', reason: 'sha256' },
        cause: { name: 'Error', message: 'disk', code: 'EIO' },
      },
    });
  });

  it('toJSON stops on a cyclic cause chain', () => {
    const a = new ShopError('READ_FAILED', 'a');
    const b = new ShopError('READ_FAILED', 'b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(() => JSON.stringify(a)).not.toThrow();
    expect(JSON.stringify(a)).toContain('[cause chain truncated]');
  });
});

describe('guards', () => {
  it('recognise their class, and copies from another install by name and code', () => {
    const e = new ShopError('OUT_OF_STOCK', 'x');
    const copy = Object.assign(new Error('x'), {
      name: 'ShopError',
      code: 'OUT_OF_STOCK',
      toJSON() {},
    });
    expect(isShopError(e)).toBe(true);
    expect(isShopError(copy)).toBe(true);
    expect(isShopError(new CoreError('INTEGRITY', 'x'))).toBe(false);
    expect(isShopError(new Error('x'))).toBe(false);
    expect(isMlshipError(e)).toBe(true);
    expect(isMlshipError(copy)).toBe(true);
    expect(isMlshipError(e, 'OUT_OF_STOCK')).toBe(true);
    expect(isMlshipError(e, 'INTEGRITY')).toBe(false);
    expect(isMlshipError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false);
    expect(isCoreError(new CoreError('INTEGRITY', 'x'))).toBe(true);
    expect(isCoreError(e)).toBe(false);
  });
});

describe('asPackageError', () => {
  it('re-expresses a core error as the package class with the same code, message, data and cause', () => {
    const cause = new Error('inner');
    const core = new CoreError('INTEGRITY', 'bad bytes', {
      cause,
      data: { path: 'a', reason: 'size' },
    });
    const e = asPackageError(core, ShopError, { code: 'READ_FAILED', message: 'reading' });
    expect(e).toBeInstanceOf(ShopError);
    expect(e).toMatchObject({
      code: 'INTEGRITY',
      message: 'bad bytes',
      data: { path: 'a', reason: 'size' },
    });
    expect(e.cause).toBe(cause);
  });

  it('returns an instance of the class unchanged and wraps foreign errors with the fallback code', () => {
    const own = new ShopError('OUT_OF_STOCK', 'x');
    expect(asPackageError(own, ShopError, { code: 'READ_FAILED', message: 'm' })).toBe(own);
    const raw = new Error('EACCES: permission denied');
    const e = asPackageError(raw, ShopError, { code: 'READ_FAILED', message: 'reading /x' });
    expect(e).toMatchObject({
      code: 'READ_FAILED',
      message: 'reading /x: EACCES: permission denied',
    });
    expect(e.cause).toBe(raw);
  });
});
