import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { isRegistryError, type Registry } from '../src/index';
import { writeModelDirForTesting } from '../src/testing';

const execFileP = promisify(execFile);

/** Runs the real git CLI; resolves with stdout, rejects with stderr in the message. */
export async function gitCli(cwd: string, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileP('git', args, {
      cwd,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', HOME: tmpdir() },
    });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`git ${args.join(' ')} failed: ${err.stderr ?? err.message}`);
  }
}

/** Runs `git commit` (extra `args`) with a fixed user, for repositories without a configured one. */
export async function gitCommit(cwd: string, ...args: string[]): Promise<string> {
  return gitCli(cwd, '-c', 'user.name=u', '-c', 'user.email=u@x', 'commit', ...args);
}

/** git fsck --strict; returns its combined output (throws when fsck exits non-zero). */
export async function fsckStrict(gitdirOrWorktree: string): Promise<string> {
  const { stdout, stderr } = await execFileP('git', ['fsck', '--strict', '--no-progress'], {
    cwd: gitdirOrWorktree,
    encoding: 'utf8',
  });
  return `${stdout}${stderr}`;
}

export async function tempDir(
  prefix = 'mlship-registry-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Total bytes of every file under `dir` (e.g. `.git/objects`). */
export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) total += await dirBytes(p);
    else total += (await stat(p)).size;
  }
  return total;
}

export const PKG_ROOT = resolve(import.meta.dirname, '..');

/** Spawns `node --import tsx <script> ...args` (the script imports the TS source). */
export function spawnTs(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: PKG_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * A real git smart-HTTP server: git's own `git http-backend` (CGI) behind a tiny Node HTTP-to-CGI
 * bridge on 127.0.0.1, optionally demanding HTTP basic auth.
 */
export async function startGitHttpServer(
  projectRoot: string,
  auth?: { username: string; password: string },
  faults: {
    /**
     * Kill `git http-backend` with SIGKILL after it has sent this many bytes of an upload-pack
     * (fetch) response, then end the HTTP response: the server dies mid-transfer. Read at each
     * request, so a test can arm and disarm it.
     */
    killUploadPackAfter?: number;
    /** Only kill the Nth upload-pack request from now on (1 = the next one). Default: every one. */
    killUploadPackRequest?: number;
  } = {},
): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    if (auth) {
      const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401, {
          'WWW-Authenticate': 'Basic realm="git"',
          'Content-Type': 'text/plain',
        });
        res.end('authentication required');
        return;
      }
    }
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: projectRoot,
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(u.pathname),
      QUERY_STRING: u.search.replace(/^\?/, ''),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: '127.0.0.1',
      REMOTE_USER: auth?.username ?? 'anonymous',
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: 'HTTP/1.1',
    };
    if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
    if (req.headers['content-encoding'])
      env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
    if (req.headers['git-protocol']) env.GIT_PROTOCOL = String(req.headers['git-protocol']);
    const cgi = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headerDone = false;
    const isUploadPack = req.method === 'POST' && u.pathname.endsWith('/git-upload-pack');
    let killAfter = isUploadPack ? faults.killUploadPackAfter : undefined;
    if (isUploadPack && faults.killUploadPackRequest !== undefined) {
      faults.killUploadPackRequest -= 1;
      if (faults.killUploadPackRequest !== 0) killAfter = undefined;
    }
    let sent = 0;
    let killed = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (killed) return;
      if (headerDone) {
        if (killAfter !== undefined && sent + chunk.length >= killAfter) {
          res.write(chunk.subarray(0, Math.max(0, killAfter - sent)));
          killed = true;
          cgi.kill('SIGKILL');
          res.end();
          return;
        }
        sent += chunk.length;
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const sep = head.indexOf('\r\n\r\n');
      const sepLen = 4;
      const alt = sep < 0 ? head.indexOf('\n\n') : -1;
      const at = sep >= 0 ? sep : alt;
      if (at < 0) return;
      const headerText = head.subarray(0, at).toString('latin1');
      const body = head.subarray(at + (sep >= 0 ? sepLen : 2));
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of headerText.split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]);
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      headerDone = true;
      if (body.length) {
        sent += body.length;
        res.write(body);
      }
    });
    cgi.stdout.on('end', () => {
      if (!killed) res.end();
    });
    cgi.on('error', () => {
      res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** The files of a model A directory written by writeModelDirForTesting, in git's order. */
export const MODEL_A_FILES = [
  'conv2d.weights.bin',
  'conv2d_1.weights.bin',
  'dense.weights.bin',
  'dense_1.weights.bin',
  'mlship.json',
  'model.json',
];

/** Three model directories the registry tests register (inputs only: no test modifies them). */
export interface ModelDirs {
  /** model A, seed 1, accuracy 0.91, train set aaaa1111 */
  base: string;
  /** base's conv layers, new dense layers (strategy freeze), accuracy 0.95, train set bbbb2222 */
  frozen: string;
  /** every layer new (seed 3, strategy scratch), accuracy 0.93 */
  scratch: string;
}

/** Writes the three model directories of {@link ModelDirs} under `root`. */
export async function writeModelDirs(root: string): Promise<ModelDirs> {
  const dirs = {
    base: join(root, 'models', 'base'),
    frozen: join(root, 'models', 'frozen'),
    scratch: join(root, 'models', 'scratch'),
  };
  await writeModelDirForTesting(dirs.base, {
    seed: 1,
    metrics: { accuracy: 0.91, loss: 0.3 },
    training: { optimizer: 'adam', learningRate: 0.001, epochs: 3 },
    datasets: { train: { fingerprint: 'sha256:aaaa1111', count: 10000 } },
  });
  await writeModelDirForTesting(dirs.frozen, {
    seed: 1,
    layerSeeds: { dense: 2, dense_1: 2 },
    metrics: { accuracy: 0.95, loss: 0.2 },
    training: {
      optimizer: 'adam',
      learningRate: 0.0005,
      epochs: 3,
      frozen: ['conv2d', 'conv2d_1'],
    },
    datasets: { train: { fingerprint: 'sha256:bbbb2222', count: 10000 } },
    strategy: 'freeze',
  });
  await writeModelDirForTesting(dirs.scratch, {
    seed: 3,
    metrics: { accuracy: 0.93 },
    strategy: 'scratch',
  });
  return dirs;
}

/**
 * Registers cnn v1 (base, message 'baseline'), v2 (frozen, parent v1, message 'freeze conv,
 * retrain head') and v3 (scratch, parent v1, strategy scratch).
 */
export async function registerThree(
  reg: Registry,
  dirs: ModelDirs,
): Promise<Awaited<ReturnType<Registry['register']>>[]> {
  const v1 = await reg.register('cnn', dirs.base, { message: 'baseline' });
  const v2 = await reg.register('cnn', dirs.frozen, {
    parent: 'cnn@v1',
    message: 'freeze conv, retrain head',
  });
  const v3 = await reg.register('cnn', dirs.scratch, { parent: 'cnn@v1', strategy: 'scratch' });
  return [v1, v2, v3];
}

/**
 * The stage history the tests build on {@link registerThree}: production -> v1 (#1), staging -> v2
 * ('candidate', #2), production -> what staging points at ('promote', #3), staging removed (#4).
 * Afterwards `cnn#production` is v2 and staging is unassigned.
 */
export async function assignStages(reg: Registry): Promise<void> {
  await reg.assign('cnn@v1', 'production');
  await reg.assign('cnn@v2', 'staging', { message: 'candidate' });
  await reg.assign('cnn#staging', 'production', { message: 'promote' });
  await reg.unassign('cnn', 'staging');
}

/** The code, message and data of the RegistryError `p` rejects with (fails on success). */
export async function errorOf(
  p: Promise<unknown>,
): Promise<{ code: string; message: string; data: Record<string, unknown> | undefined }> {
  try {
    await p;
  } catch (e) {
    if (isRegistryError(e)) return { code: e.code, message: e.message, data: e.data };
    throw e;
  }
  throw new Error('expected a RegistryError, got success');
}
