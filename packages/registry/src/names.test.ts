import { describe, expect, it } from 'vitest';
import {
  isValidBranchName,
  isValidName,
  parseTag,
  parseVersionRef,
  stageTag,
  versionTag,
} from './names';

describe('GTO tag grammar', () => {
  it.each([
    ['cnn@v3.0.0', { kind: 'version', name: 'cnn', version: 3 }],
    ['mnist-cnn@v12.0.0', { kind: 'version', name: 'mnist-cnn', version: 12 }],
    ['cnn@v3.0.0!#7', { kind: 'deregister', name: 'cnn', version: 3, counter: 7 }],
    ['cnn#production#4', { kind: 'assign', name: 'cnn', stage: 'production', counter: 4 }],
    ['cnn#production!#5', { kind: 'unassign', name: 'cnn', stage: 'production', counter: 5 }],
  ])('parses %s', (tag, expected) => {
    expect(parseTag(tag)).toEqual({ ...expected, tag });
  });

  it.each([
    'cnn@v0.0.1',
    'cnn@v1.2.0',
    'cnn@v3',
    'cnn#production',
    'cnn@deprecated',
    'v1.0.0',
    'Cnn@v1.0.0',
    'cnn@v1.0.0#2',
    'cnn@v0.0.0',
    // counters and versions past 2^53 - 1 cannot be counted exactly (K + 1 === K)
    'cnn#production#9007199254740992',
    'cnn#production!#99999999999999999999',
    'cnn@v9007199254740993.0.0',
    'cnn@v1.0.0!#9007199254740993',
  ])('ignores %s (not a tag this registry writes)', (tag) => {
    expect(parseTag(tag)).toBeUndefined();
  });

  it('formats tags that parse back', () => {
    expect(parseTag(versionTag('cnn', 2))).toMatchObject({ kind: 'version', version: 2 });
    expect(parseTag(stageTag('cnn', 'prod', 9, true))).toMatchObject({
      kind: 'unassign',
      stage: 'prod',
      counter: 9,
    });
  });
});

describe('version references', () => {
  it.each([
    ['cnn@v3', { kind: 'version', name: 'cnn', version: 3 }],
    ['cnn@3', { kind: 'version', name: 'cnn', version: 3 }],
    ['cnn@v3.0.0', { kind: 'version', name: 'cnn', version: 3 }],
    ['cnn@latest', { kind: 'latest', name: 'cnn' }],
    ['cnn@greatest', { kind: 'latest', name: 'cnn' }],
    ['cnn', { kind: 'latest', name: 'cnn' }],
    ['cnn#production', { kind: 'stage', name: 'cnn', stage: 'production' }],
    ['cnn#production#2', { kind: 'assignment', name: 'cnn', stage: 'production', counter: 2 }],
  ])('parses %s', (ref, expected) => {
    expect(parseVersionRef(ref)).toEqual(expected);
  });

  it.each(['', 'cnn@', 'cnn@v1.2.0', 'cnn@v0', '../cnn@v1', 'cnn#', 'CNN@v1', 'cnn@v1#2'])(
    'rejects %j',
    (ref) => {
      expect(() => parseVersionRef(ref)).toThrow(/Invalid version reference/);
    },
  );

  it.each([
    ['cnn', true],
    ['mnist_cnn.v2', true],
    ['a', true],
    ['a..b', false],
    ['x.lock', false],
    ['-x', false],
    ['x/y', false],
    ['x'.repeat(101), false],
  ])('isValidName(%j) is %s', (name, ok) => {
    expect(isValidName(name)).toBe(ok);
  });
});

// GTO's tag grammar as its docs describe it (artifact names [a-z0-9] with inner '-' or '/';
// `@vX.Y.Z` registers, `#stage` assigns, a trailing `!` cancels either, `#N` is the event
// counter), written independently here to check that every tag this registry writes parses in
// GTO with the meaning we intend.
const GTO_TAG =
  /^(?<artifact>[a-z0-9](?:[a-z0-9/-]*[a-z0-9])?)(?:(?:#(?<stage>[a-z0-9](?:[a-z0-9/-]*[a-z0-9])?)|@(?<version>v(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)))(?<cancel>!?)|@deprecated)(?:#(?<counter>[0-9]+))?$/;

describe('GTO reads the tags we write', () => {
  it.each([
    [
      versionTag('mnist-cnn', 3),
      { artifact: 'mnist-cnn', version: 'v3.0.0', cancel: '', counter: undefined },
    ],
    [
      stageTag('mnist-cnn', 'production', 4),
      { artifact: 'mnist-cnn', stage: 'production', cancel: '', counter: '4' },
    ],
    [
      stageTag('mnist-cnn', 'production', 5, true),
      { artifact: 'mnist-cnn', stage: 'production', cancel: '!', counter: '5' },
    ],
    [
      'mnist-cnn@v3.0.0!#6',
      { artifact: 'mnist-cnn', version: 'v3.0.0', cancel: '!', counter: '6' },
    ],
  ])('%s', (tag, fields) => {
    const g = GTO_TAG.exec(tag)?.groups;
    expect(g).toMatchObject(
      Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
    );
    // ... and our own parser reads the same artifact, event and counter out of it.
    const f = fields as { artifact: string; version?: string; stage?: string; counter?: string };
    const kind =
      f.version === undefined
        ? fields.cancel
          ? 'unassign'
          : 'assign'
        : fields.cancel
          ? 'deregister'
          : 'version';
    expect(parseTag(tag)).toMatchObject({
      kind,
      name: f.artifact,
      ...(f.version !== undefined && { version: Number(f.version.slice(1, -4)) }),
      ...(f.stage !== undefined && { stage: f.stage }),
      ...(f.counter !== undefined && { counter: Number(f.counter) }),
    });
  });
});

describe('registry branch names (git check-ref-format --branch)', () => {
  it.each([
    ['mlship', true],
    ['models/registry', true],
    ['release-1.0', true],
    ['a/', false],
    ['a..b', false],
    ['x.lock', false],
    ['a/x.lock/b', false],
    ['.hidden', false],
    ['a/.b', false],
    ['a//b', false],
    ['/a', false],
    ['a.', false],
    ['a@{1}', false],
    ['@', false],
    ['-a', false],
    ['a b', false],
    ['a~1', false],
    ['a^', false],
    ['a:b', false],
    ['a?', false],
    ['a*', false],
    ['a[', false],
    ['a\\b', false],
    ['HEAD', false],
    ['', false],
  ])('%j is %s', (name, ok) => {
    expect(isValidBranchName(name)).toBe(ok);
  });
});

describe('version references past 2^53 - 1', () => {
  it.each(['cnn@v9007199254740993', 'cnn#production#9007199254740993'])(
    'refuses %s with INVALID_REF',
    (ref) => {
      expect(() => parseVersionRef(ref)).toThrow(
        expect.objectContaining({
          code: 'INVALID_REF',
          message: expect.stringMatching(/at most 2\^53 - 1/),
        }),
      );
    },
  );
});
