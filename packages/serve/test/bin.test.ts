/* eslint-disable @typescript-eslint/no-unsafe-member-access -- HTTP response bodies are untyped JSON; every one is checked by the assertions */
/**
 * The `mlship-serve` executable as the container runs it: built from src/bin.ts into
 * `.test-build/dist/bin.js` (not dist/, which other packages' tests may be reading), started as a
 * child process, stopped with SIGTERM.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { cp, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { openRegistry } from '@mlship/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, copyFixture, nested, post, removeAll, tempDir } from './helpers';

const run = promisify(execFile);
const pkgDir = path.resolve(__dirname, '..');
const buildRoot = path.join(pkgDir, '.test-build');
const bin = path.join(buildRoot, 'dist', 'bin.js');
let root: string;
let dir: string;

beforeAll(async () => {
  await rm(buildRoot, { recursive: true, force: true });
  await run(
    'pnpm',
    [
      'exec',
      'tsup',
      'src/bin.ts',
      '--no-config',
      '--silent',
      '--format',
      'esm',
      '--platform',
      'node',
      '--target',
      'node20',
      '--out-dir',
      path.join(buildRoot, 'dist'),
    ],
    { cwd: pkgDir },
  );
  await cp(path.join(pkgDir, 'public'), path.join(buildRoot, 'public'), { recursive: true });
  root = await tempDir('bin');
  dir = await copyFixture('v1', path.join(root, 'cnn'));
}, 300_000);

afterAll(async () => {
  // A failed test must not leave a server running.
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await rm(buildRoot, { recursive: true, force: true });
  await removeAll(root);
});

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.on('error', reject);
  });
}

/**
 * Writes one request and resolves with the status of its answer (0 if the connection dies first).
 * With `hold`, the last `hold` bytes are kept back until `finish()`: the server has the request
 * (its onRequest hook counts it in flight) but cannot answer it yet.
 */
function send(
  socket: net.Socket,
  request: string,
  hold = 0,
): { status: Promise<number>; finish: () => void } {
  const status = new Promise<number>((resolve) => {
    let head = '';
    socket.on('data', (c: Buffer) => {
      head += c.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (m && head.includes('\r\n\r\n')) {
        resolve(Number(m[1]));
        socket.destroy();
      }
    });
    socket.on('close', () => resolve(0));
    socket.on('error', () => undefined);
  });
  const bytes = Buffer.from(request, 'latin1');
  socket.write(bytes.subarray(0, bytes.length - hold));
  return { status, finish: () => void socket.write(bytes.subarray(bytes.length - hold)) };
}

interface Running {
  child: ChildProcessWithoutNullStreams;
  logs: Record<string, unknown>[];
  url: string;
  exit: Promise<number | null>;
}

const started: ChildProcessWithoutNullStreams[] = [];

async function start(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [bin, ...args], { cwd: pkgDir, stdio: 'pipe' });
  started.push(child);
  const logs: Record<string, unknown>[] = [];
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry['event'] === 'listening') resolve(entry['url'] as string);
    });
    void exit.then((code) =>
      reject(new Error(`exited ${code} before listening: ${JSON.stringify(logs)}`)),
    );
  });
  return { child, logs, url, exit };
}

describe('mlship-serve', () => {
  it('serves --model name=dir on --host/--port, logs JSON lines, and on SIGTERM drains in-flight requests and exits 0', async () => {
    const s = await start([
      '--model',
      `cnn=${dir}`,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--watch-interval-ms',
      '500',
    ]);
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await call(`${s.url}/v2/health/ready`)).body).toEqual({ ready: true });
    expect(s.logs.find((l) => l['event'] === 'version-loaded')).toMatchObject({
      level: 30,
      model: 'cnn',
      version: 1,
    });
    // Six requests on open connections, each with its last body byte held back: the server has
    // accepted all six (they count in flight) but cannot answer any yet, however fast the machine.
    const body = JSON.stringify({
      instances: await Promise.all(Array.from({ length: 64 }, (_, i) => nested(i))),
    });
    const port = Number(new URL(s.url).port);
    const sockets = await Promise.all(Array.from({ length: 6 }, () => connect(port)));
    const requests = sockets.map((socket) =>
      send(
        socket,
        `POST /v1/models/cnn:predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        1,
      ),
    );
    // Six held requests plus this scrape are in flight.
    let seen = 0;
    for (const end = Date.now() + 20_000; seen < 7 && Date.now() < end;) {
      seen = Number(
        /^mlship_requests_in_flight (\d+)/m.exec(
          (await call(`${s.url}/metrics`)).body as string,
        )?.[1],
      );
    }
    expect(seen).toBe(7);
    // SIGTERM while they are in flight; once the server drains, their bodies complete: all six served.
    s.child.kill('SIGTERM');
    for (const end = Date.now() + 20_000; Date.now() < end;) {
      if (s.logs.some((l) => l['event'] === 'draining')) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(s.logs.map((l) => l['event'])).toContain('draining');
    for (const r of requests) r.finish();
    expect(await Promise.all(requests.map((r) => r.status))).toEqual([
      200, 200, 200, 200, 200, 200,
    ]);
    expect(await s.exit).toBe(0);
    expect(s.logs.map((l) => l['event'])).toEqual(
      expect.arrayContaining(['signal', 'draining', 'stopped']),
    );
    await expect(fetch(`${s.url}/v2/health/live`)).rejects.toThrow();
  }, 180_000);

  it('serves registry references with --registry dir --model name=ref (stages as labels)', async () => {
    const registryDir = path.join(root, 'registry');
    const reg = await openRegistry({ dir: registryDir });
    await reg.register('cnn', dir, { stages: ['production'] });
    const s = await start([
      '--registry',
      registryDir,
      '--model',
      'cnn=cnn#production',
      '--model',
      'cnn=cnn@v1',
      '--port',
      '0',
      '--no-ui',
    ]);
    try {
      const r = await post(`${s.url}/v1/models/cnn/labels/production:predict`, {
        instances: [await nested(0)],
      });
      expect([r.status, r.body.model_version]).toEqual([200, '1']);
      expect((await call(`${s.url}/`)).status).toBe(404);
    } finally {
      s.child.kill('SIGTERM');
      expect(await s.exit).toBe(0);
    }
  }, 180_000);

  it('exits 2 with the usage for bad arguments and 1 with a JSON error when a model cannot be loaded', async () => {
    const bad = await run(process.execPath, [bin, '--model', 'cnn'], { cwd: pkgDir }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toMatch(
      /--model expects NAME=SOURCE, got "cnn"[\s\S]*Usage: mlship-serve/,
    );
    const missing = await run(
      process.execPath,
      [bin, '--model', `cnn=${path.join(root, 'nope')}`, '--port', '0'],
      { cwd: pkgDir },
    ).catch((e: { code: number; stdout: string }) => e);
    expect((missing as { code: number }).code).toBe(1);
    const line = JSON.parse(
      (missing as { stdout: string }).stdout.trim().split('\n').pop() as string,
    ) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 50, event: 'start-failed', code: 'NOT_A_MODEL_DIR' });
    expect(line['error']).toMatch(/does not exist/);
  }, 180_000);
});
