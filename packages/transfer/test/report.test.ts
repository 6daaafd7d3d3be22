import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExperiment } from '../src/experiment/runner';
import type { ExperimentResult } from '../src/experiment/types';
import type { WrittenReport } from '../src/report/write';
import { writeReport } from '../src/report/write';
import type { Fixture } from './helpers';
import { fixture } from './helpers';

/** Debian's chromium (`apt-get install -y chromium`; .ci/run installs it): nothing is downloaded. */
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** What the test reads of one chart in the page. */
interface ChartSeen {
  name: string;
  lines: number;
  bands: number;
  bars: number;
  legend: string[];
  width: number;
}

let fx: Fixture;
let result: ExperimentResult;
let files: WrittenReport;

beforeAll(async () => {
  fx = await fixture();
  result = await runExperiment(
    {
      name: 'report-test',
      strategies: [{ kind: 'scratch' }, { kind: 'fineTune' }, { kind: 'featureCache' }],
      seeds: [1, 2],
      budget: { epochs: 2 },
    },
    { base: fx.baseDir, data: fx.data },
  );
  files = await writeReport(result, path.join(fx.root, 'report'));
}, 180_000);
afterAll(async () => fx?.cleanup());

describe('writeReport', () => {
  it('writes the result JSON, a markdown table with a row per strategy, SVG charts and one HTML page', async () => {
    const json = JSON.parse(await fs.readFile(files.json, 'utf8')) as ExperimentResult;
    expect(json).toEqual(JSON.parse(JSON.stringify(result)));
    const md = await fs.readFile(files.markdown, 'utf8');
    const rows = md.split('\n').filter((l) => l.startsWith('| '));
    expect(rows.map((r) => r.split(' | ')[0])).toEqual([
      '| strategy',
      '| ---',
      '| base model, untouched',
      '| scratch',
      '| fineTune',
      '| featureCache',
    ]);
    const fine = result.summary[1]!.testAccuracy;
    expect(md).toContain(
      `| fineTune | 3,722 | 0 | ${(fine.mean * 100).toFixed(2)} ± ${(fine.sd * 100).toFixed(2)} |`,
    );
    expect(md).toMatch(/- \*\*(held|did not hold|not tested)\*\* — Transfer learning adapts/);
    expect(files.charts.map((c) => path.basename(c))).toEqual([
      'accuracy-by-epoch.svg',
      'accuracy-by-seconds.svg',
      'test-accuracy.svg',
    ]);
    for (const chart of files.charts) {
      expect(await fs.readFile(chart, 'utf8')).toMatch(
        /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/,
      );
    }
    const html = await fs.readFile(files.html, 'utf8');
    expect(html).not.toMatch(/<script|src="http|href="http/);
  });
});

describe('the HTML report in headless Chromium', () => {
  let context: BrowserContext | undefined;
  let userDir: string;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`,
      );
    }
    userDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlship-chromium-'));
    context = await chromium.launchPersistentContext(userDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
    });
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    if (userDir !== undefined) await fs.rm(userDir, { recursive: true, force: true });
  });

  it('loads with no console errors and shows one line per strategy in each chart', async () => {
    const page = await context!.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    const response = await page.goto(`file://${files.html}`);
    expect(response?.ok()).toBe(true);
    await page.waitForLoadState('load');
    expect(await page.title()).toBe('report-test — mlship transfer experiment');
    // Runs in the page (a string, so the test needs no DOM typings).
    const charts = await page.evaluate<
      ChartSeen[]
    >(`[...document.querySelectorAll('figure[data-chart]')].map((f) => ({
      name: f.getAttribute('data-chart'),
      lines: f.querySelectorAll('.mark-line path').length,
      bands: f.querySelectorAll('.mark-area path').length,
      bars: f.querySelectorAll('.mark-rect path').length,
      legend: [...f.querySelectorAll('.role-legend-label text')].map((t) => t.textContent),
      width: f.querySelector('svg').getBoundingClientRect().width,
    }))`);
    const strategies = ['scratch', 'fineTune', 'featureCache'];
    expect(charts.map((c) => c.name)).toEqual([
      'accuracy-by-epoch',
      'accuracy-by-seconds',
      'test-accuracy',
    ]);
    for (const c of charts.slice(0, 2)) {
      expect(c).toMatchObject({ lines: 3, bands: 3, legend: strategies });
      expect(c.width).toBeGreaterThan(300);
    }
    expect(charts[2]!.bars).toBe(3);
    const table = await page.evaluate<string[]>(
      `[...document.querySelectorAll('table tbody tr td:first-child')].map((c) => c.textContent)`,
    );
    expect(table).toEqual(['base model, untouched', ...strategies]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
