// Adds up the JSON reports vitest wrote for every package (see vitest.shared.ts) and prints the
// suite's closing line, "tests: N passed, N failed, N skipped". Exits 1 if any test failed or no
// report was found, so a run that executed nothing cannot pass.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
let passed = 0;
let failed = 0;
let skipped = 0;
let reports = 0;
const dirs = [
  ...readdirSync(path.join(root, 'packages')).map((name) => path.join('packages', name)),
  ...readdirSync(path.join(root, 'examples')).map((name) => path.join('examples', name)),
  'checks',
];
for (const dir of dirs) {
  const name = path.basename(dir);
  const file = path.join(root, dir, '.vitest-report.json');
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  reports++;
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  console.log(
    `@mlship/${name}: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests + report.numTodoTests} skipped`,
  );
}
if (reports === 0) {
  console.log('tests: 0 passed, 0 failed (no vitest report found)');
  process.exit(1);
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
