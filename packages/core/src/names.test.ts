import { describe, expect, it } from 'vitest';
import { assertValidName, isValidName } from './names';
import { isSafeRelativePath, joinPath, parentPath, baseName } from './paths';

describe('isValidName (the one model/stage grammar, GTO-compatible)', () => {
  it.each(['cnn', 'cnn-v2', 'a', 'model_a', 'mnist.cnn', '0', 'a1-b2_c3.d4', 'x'.repeat(100)])(
    'accepts %s',
    (name) => expect(isValidName(name)).toBe(true),
  );
  it.each([
    '',
    'CNN',
    'Model A',
    '-cnn',
    'cnn-',
    'cnn.',
    '.cnn',
    'a..b',
    'cnn.lock',
    'a/b',
    '../x',
    'a@b',
    'a#b',
    'x'.repeat(101),
    5,
    null,
  ])('refuses %j', (name) => expect(isValidName(name)).toBe(false));

  it('assertValidName names the value, what it is and the grammar', () => {
    expect(() => assertValidName('Model A', 'stage')).toThrow(
      /^Invalid stage name "Model A": expected lowercase \[a-z0-9\]/,
    );
  });
});

describe('paths', () => {
  it.each(['model.json', 'a/b.bin', 'x.weights.bin'])('%s is a safe relative path', (p) =>
    expect(isSafeRelativePath(p)).toBe(true),
  );
  it.each([
    '',
    '/etc/passwd',
    '../x',
    'a/../b',
    'a//b',
    './a',
    'a\\b',
    'a\0b',
    '.git/config',
    'x/.GIT/y',
  ])('%j is not', (p) => expect(isSafeRelativePath(p)).toBe(false));
  it('join, parent and base name', () => {
    expect(joinPath('/srv/m/', 'model.json')).toBe('/srv/m/model.json');
    expect(joinPath('/', 'a')).toBe('/a');
    expect(joinPath('.', 'a')).toBe('a');
    expect(parentPath('/srv/m/cnn')).toBe('/srv/m');
    expect(parentPath('/cnn')).toBe('/');
    expect(parentPath('cnn')).toBe('.');
    expect(baseName('/srv/m/cnn/')).toBe('cnn');
  });
});
