import { describe, expect, it } from 'vitest';
import { CoreError, MlshipError } from './errors';
import { checkOptions } from './options';

class ModelishError extends MlshipError<'INVALID_OPTION'> {
  override name = 'ModelishError';
}

describe('checkOptions', () => {
  const accepted = ['epochs', 'batchSize', 'learningRate'];

  it('accepts undefined and objects with known keys', () => {
    expect(() => checkOptions(undefined, accepted, 'train options')).not.toThrow();
    expect(() =>
      checkOptions({ epochs: 5, batchSize: 32 }, accepted, 'train options'),
    ).not.toThrow();
  });

  it('rejects a misspelt key, naming it, the nearest accepted key and the accepted list', () => {
    let caught: unknown;
    try {
      checkOptions({ epoch: 5 }, accepted, 'train options');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(CoreError);
    expect(caught).toMatchObject({
      code: 'INVALID_OPTION',
      message:
        'train options: unknown option "epoch" (did you mean "epochs"?); accepted: epochs, batchSize, learningRate',
      data: { path: 'epoch', accepted },
    });
  });

  it('offers no suggestion when nothing is close', () => {
    expect(() => checkOptions({ colour: 'red' }, accepted, 'f')).toThrow(
      /^f: unknown option "colour"; accepted: epochs, batchSize, learningRate$/,
    );
  });

  it.each([
    [null, 'null'],
    [5, 'number'],
    ['x', 'string'],
    [[1], 'an array'],
  ])('rejects %j as options', (value, word) => {
    expect(() => checkOptions(value, accepted, 'f')).toThrow(
      `f: expected an options object, got ${word}`,
    );
  });

  it("throws the caller's error class", () => {
    expect(() => checkOptions({ x: 1 }, accepted, 'f', ModelishError)).toThrow(ModelishError);
  });
});
