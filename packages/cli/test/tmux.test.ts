import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, tempDir } from './helpers';

// A real terminal: tmux (Debian's package, installed by .ci/run) runs a shell, the test types the
// command with send-keys and reads the screen with capture-pane, as a person watching it would.
const socket = `mlship-cli-test-${process.pid}`;
const tmux = (...args: string[]): string =>
  execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const BAR = /^train \[([#-]{30})\] +(\d+)% (\d+)\/(\d+) epoch (\d)\/2/;

describe('mlship train in a terminal', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  beforeAll(async () => {
    tmp = await tempDir('tmux');
    tmux(
      'new-session',
      '-d',
      '-s',
      'cli',
      '-x',
      '160',
      '-y',
      '40',
      '-c',
      tmp.dir,
      'bash --norc --noprofile',
    );
  });
  afterAll(async () => {
    try {
      tmux('kill-server'); // only this test's own tmux server (its own socket)
    } catch {
      // already gone
    }
    await tmp.remove();
  });

  it('shows one progress bar that updates in place, then the result table', async () => {
    tmux(
      'send-keys',
      '-t',
      'cli',
      `node ${BIN} train --data "mnist:train[0:3000]" --test "mnist:test[0:500]" --epochs 2 --workers 0 --out m; echo "EXIT=$?"`,
      'Enter',
    );
    const seen: number[] = [];
    let screen = '';
    const deadline = Date.now() + 240_000;
    while (Date.now() < deadline) {
      await sleep(250);
      screen = tmux('capture-pane', '-p', '-t', 'cli');
      const bars = screen.split('\n').filter((l) => BAR.test(l));
      // Redrawn in place: never two bar lines on the screen at once.
      expect(bars.length).toBeLessThanOrEqual(1);
      if (bars.length === 1) {
        const value = Number(BAR.exec(bars[0]!)![3]);
        if (seen[seen.length - 1] !== value) seen.push(value);
      }
      if (/EXIT=\d+/.test(screen)) break;
    }
    expect(screen).toMatch(/EXIT=0/);
    // The bar moved through several positions, forwards only, and ended full.
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    const final = BAR.exec(screen.split('\n').find((l) => BAR.test(l)) ?? '');
    expect(final?.[2]).toBe('100');
    expect(final?.[3]).toBe(final?.[4]);
    expect(screen).toMatch(/│ +2 │ \d\.\d{4} │/); // the epoch table
    expect(screen).toMatch(/test accuracy \d+\.\d\d % on 500 images/);
  }, 300_000);
});
