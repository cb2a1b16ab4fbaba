// Takes the screenshot of docs/timeline.md from a real run (Node ≥ 23.6, which loads the
// TypeScript browser helper of the tests directly; Debian's chromium):
//   npm run build && node scripts/report-screenshot.mjs
// It runs examples/cli/server.mjs under `tlob run` with the probes of examples/cli/tlob.config.json,
// opens the report from file:// in headless Chromium and saves docs/images/report.png.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, openReport } from '../test/report/chromium.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const report = join(root, '.tmp/report.html');
mkdirSync(join(root, '.tmp'), { recursive: true });
mkdirSync(join(root, 'docs/images'), { recursive: true });
const run = spawnSync(
  process.execPath,
  [
    'dist/cli.js',
    'run',
    '-q',
    '--config',
    'examples/cli/tlob.config.json',
    '--report',
    report,
    'examples/cli/server.mjs',
  ],
  { cwd: root, stdio: 'inherit' },
);
if (run.status !== 0) process.exit(run.status ?? 1);
const chromium = await launchChromium();
const { page, consoleErrors } = await openReport(chromium.browser, report, 1200);
if (consoleErrors.length > 0) throw new Error(consoleErrors.join('\n'));
// the page down to the first rows of the violation list
await page.setViewportSize({ width: 1200, height: 1250 });
await page.screenshot({ path: join(root, 'docs/images/report.png') });
await chromium.close();
console.log('wrote docs/images/report.png');
