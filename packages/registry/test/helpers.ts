import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

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
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headerDone) {
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
      if (body.length) res.write(body);
    });
    cgi.stdout.on('end', () => res.end());
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
