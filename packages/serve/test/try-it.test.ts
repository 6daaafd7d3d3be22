/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call -- HTTP response bodies are untyped JSON; every one is checked by the assertions */
/**
 * The try-it page at `/` in a real browser: Debian's Chromium (`apt-get install -y chromium`, which
 * .ci/run does) driven by playwright-core through its executablePath; nothing is downloaded.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { openRegistry } from '@mlship/registry';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MlshipServer } from '../src/index';
import { copyFixture, digit, pngOf, post, removeAll, serve, tempDir } from './helpers';

const CHROMIUM = '/usr/bin/chromium';
let root: string;
let server: MlshipServer;
let url: string;
let browser: BrowserContext;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does`,
    );
  root = await tempDir('try-it');
  const registryDir = path.join(root, 'registry');
  const reg = await openRegistry({ dir: registryDir });
  await reg.register('cnn', await copyFixture('v1', path.join(root, 'v1')), {
    stages: ['production'],
  });
  await reg.register('cnn', await copyFixture('v2', path.join(root, 'v2')), {
    stages: ['staging'],
  });
  ({ server, url } = await serve({
    models: [
      {
        name: 'cnn',
        source: [
          { registry: registryDir, ref: 'cnn#production' },
          { registry: registryDir, ref: 'cnn#staging' },
        ],
      },
    ],
  }));
  browser = await chromium.launchPersistentContext(path.join(root, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  page = await browser.newPage();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await removeAll(root);
});

interface Shown {
  labels: string[];
  probabilities: number[];
  version: string | undefined;
  text: string;
}

async function shown(): Promise<Shown> {
  await page.waitForSelector('#answered[data-version]');
  // Browser code as a string: this package is type-checked without the DOM library.
  return page.evaluate<Shown>(`(() => {
    const items = [...document.querySelectorAll('#results li')];
    const answered = document.getElementById('answered');
    return {
      labels: items.map((li) => li.dataset.label),
      probabilities: items.map((li) => Number(li.dataset.probability)),
      version: answered.dataset.version,
      text: answered.textContent,
    };
  })()`);
}

describe('try-it page', () => {
  it('draws a digit on the canvas, submits it, and shows the top-k labels and the version that answered', async () => {
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.locator('#model option').allTextContents()).toEqual(['cnn']);
    expect(await page.locator('#version option').allTextContents()).toEqual([
      'default (version 1)',
      'label production (version 1)',
      'label staging (version 2)',
      'version 1',
      'version 2',
    ]);
    // Draw a "7": a top bar and a diagonal, with the mouse.
    const box = (await page.locator('#canvas').boundingBox())!;
    const at = (x: number, y: number): [number, number] => [
      box.x + (x * box.width) / 280,
      box.y + (y * box.height) / 280,
    ];
    await page.mouse.move(...at(70, 70));
    await page.mouse.down();
    for (const [x, y] of [
      [140, 70],
      [210, 70],
      [180, 140],
      [150, 210],
      [130, 250],
    ] as const)
      await page.mouse.move(...at(x, y), { steps: 8 });
    await page.mouse.up();
    await page.click('#predict');
    const result = await shown();
    expect(result.version).toBe('1');
    expect(result.text).toBe('Answered by cnn version 1');
    expect(result.labels).toHaveLength(5);
    expect(result.probabilities).toEqual([...result.probabilities].sort((a, b) => b - a));
    // The page shows what the server answers for the same drawing.
    const png = await page.evaluate<string>(
      `document.getElementById('canvas').toDataURL('image/png').split(',')[1]`,
    );
    const direct = await post(`${url}/v1/models/cnn:classify`, {
      examples: [{ input: { b64: png } }],
      top_k: 5,
    });
    expect(direct.body.result[0].map((p: [string, number]) => p[0])).toEqual(result.labels);
  }, 120_000);

  it('takes an image file and a chosen version (label staging answers with version 2)', async () => {
    await page.selectOption('#version', 'label:staging');
    const bytes = pngOf(await digit(0));
    await page.setInputFiles('#file', { name: 'seven.png', mimeType: 'image/png', buffer: bytes });
    await page.waitForFunction(`document.getElementById('answered').dataset.version === '2'`);
    const result = await shown();
    expect(result.text).toBe('Answered by cnn version 2');
    const direct = await post(`${url}/v1/models/cnn/labels/staging:classify`, {
      examples: [{ input: { b64: bytes.toString('base64') } }],
      top_k: 5,
    });
    expect(result.labels).toEqual(direct.body.result[0].map((p: [string, number]) => p[0]));
  }, 120_000);
});
