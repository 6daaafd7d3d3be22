import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, tempDir, writeModelDirs, type ModelDirs } from '../test/helpers';
import { formatDiffMarkdown, openRegistry, type Registry } from './index';
import { writeModelDirForTesting } from './testing';

let root: string;
let cleanup: () => Promise<void>;
let dirs: ModelDirs;
let reg: Registry;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  dirs = await writeModelDirs(root);
  reg = await openRegistry({ dir: join(root, 'repo'), bare: true });
  await reg.register('cnn', dirs.base);
  await reg.register('cnn', dirs.frozen);
});
afterAll(async () => cleanup());

// A misspelt option in plain JavaScript must not be silently ignored.
describe('unknown option keys are refused with INVALID_OPTION naming the key and the accepted ones', () => {
  const bad = <T>(o: Record<string, unknown>): T => o as T;
  it.each([
    [
      'openRegistry',
      () => openRegistry(bad({ dir: join(root, 'x'), creat: false })),
      'creat',
      /openRegistry options: unknown option "creat" \(did you mean "create"\?\); accepted: dir, gitdir, create, bare, fs, author, clock, branch, lock, readOnly$/,
    ],
    [
      'openRegistry lock',
      () => openRegistry({ dir: join(root, 'x'), lock: bad({ timeout: 5 }) }),
      'timeout',
      /lock: unknown option "timeout".*accepted: timeoutMs, staleMs$/,
    ],
    [
      'register',
      () => reg.register('cnn', dirs.base, bad({ metric: { accuracy: 1 } })),
      'metric',
      /register options: unknown option "metric" \(did you mean "metrics"\?\); accepted: metrics, params, datasets, parent, strategy, tags, message, stages$/,
    ],
    [
      'assign',
      () => reg.assign('cnn@v1', 'production', bad({ msg: 'x' })),
      'msg',
      /assign options: unknown option "msg".*accepted: message$/,
    ],
    [
      'unassign',
      () => reg.unassign('cnn', 'production', bad({ mesage: 'x' })),
      'mesage',
      /unassign options: unknown option "mesage" \(did you mean "message"\?\)/,
    ],
    [
      'deregister',
      () => reg.deregister('cnn@v1', bad({ reason: 'x' })),
      'reason',
      /deregister options: unknown option "reason".*accepted: message$/,
    ],
    [
      'checkout',
      () => reg.checkout('cnn@v1', join(root, 'out'), bad({ force: true })),
      'force',
      /checkout options: unknown option "force".*accepted: overwrite$/,
    ],
    [
      'push',
      () => reg.push(bad({ uri: 'http://127.0.0.1:9/x.git' })),
      'uri',
      /remote options: unknown option "uri" \(did you mean "url"\?\)/,
    ],
    [
      'pull auth',
      () => reg.pull({ url: 'http://127.0.0.1:9/x.git', auth: bad({ user: 'a' }) }),
      'user',
      /auth: unknown option "user".*accepted: username, password$/,
    ],
    [
      'writeModelDirForTesting',
      () => writeModelDirForTesting(join(root, 'm'), bad({ seeds: 2 })),
      'seeds',
      /writeModelDirForTesting options: unknown option "seeds" \(did you mean "seed"\?\)/,
    ],
  ])('%s', async (_what, run, key, message) => {
    const err = await errorOf(run());
    expect(err).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(message) });
    expect(err.data).toMatchObject({ path: key });
    expect(Array.isArray(err.data?.accepted)).toBe(true);
  });

  it('formatDiffMarkdown', async () => {
    const d = await reg.diff('cnn@v1', 'cnn@v2');
    expect(() => formatDiffMarkdown(d, { al: true } as never)).toThrow(
      expect.objectContaining({
        name: 'RegistryError',
        code: 'INVALID_OPTION',
        message: expect.stringMatching(
          /unknown option "al" \(did you mean "all"\?\); accepted: all$/,
        ),
      }),
    );
  });

  it.each([
    [
      'an empty checkout destination',
      () => reg.checkout('cnn@v1', ''),
      /checkout: destDir: expected a non-empty string, got an empty string/,
    ],
    [
      'a missing dir',
      () => openRegistry(bad({})),
      /openRegistry needs \{ dir: string \}, got undefined/,
    ],
    [
      'stages that are not an array',
      () => reg.register('cnn', dirs.base, bad({ stages: 'production' })),
      /stages: expected an array of stage names, got "production"/,
    ],
  ])('refuses %s with INVALID_OPTION', async (_what, run, message) => {
    expect(await errorOf(run())).toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(message),
    });
  });
});
