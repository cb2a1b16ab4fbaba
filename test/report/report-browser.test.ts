import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportModel } from '../../src/report/report-model.js';
import { readRun, root, runTlob, scratch } from '../cli/run-tlob.js';
import { CHROMIUM, LAUNCH_TIMEOUT_MS, launchChromium, openReport } from './chromium.js';

// The report as users see it: written by `tlob run --report` for a known run, opened from
// file:// in a real headless Chromium (Debian's, installed by .ci/run; missing, this fails).

/** The little of the DOM these checks use (the project's TypeScript has no DOM library). */
interface Cells {
  children: ArrayLike<{ textContent: string | null }>;
}
interface Canvas {
  width: number;
  height: number;
  getContext(
    kind: '2d',
  ): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}

let chromium: Awaited<ReturnType<typeof launchChromium>>;
let report: string;

beforeAll(
  async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
    chromium = await launchChromium();
    report = join(scratch(), 'report.html');
    const out = runTlob(
      [
        'run',
        '-q',
        '-p',
        'p ./lib.mjs:work threshold=20ms name=work',
        '-p',
        'p ./lib.mjs:tick threshold=1s name=tick',
        '--report',
        report,
        'app.mjs',
      ],
      { env: { WORK: '12', SLOW: '2', TICKS: '25' } },
    );
    expect(out.status, out.stderr).toBe(0);
  },
  3 * LAUNCH_TIMEOUT_MS + 30_000,
); // up to three starts of Chromium, then the run

afterAll(async () => {
  await chromium?.close();
});

describe('HTML report in Chromium', () => {
  it('loads from file:// with no console error and no network request, and draws the run', async () => {
    const opened = await openReport(chromium.browser, report);
    const { page } = opened;
    expect(opened.consoleErrors).toEqual([]);
    expect(opened.requests).toEqual([]);

    // the per-name table: the rows and counts of the run
    const rows = await page.$$eval('#names tr', (trs) =>
      trs.map((tr) => Array.from((tr as unknown as Cells).children, (td) => (td.textContent ?? '').trim())),
    );
    expect(rows[0]?.slice(0, 4)).toEqual(['name', 'count', 'violations', 'budget']);
    expect(rows[0]).toContain('sleeping p99');
    const byName = new Map(rows.slice(1).map((r) => [r[0], r]));
    expect(byName.get('work')?.slice(1, 4)).toEqual(['14', expect.stringMatching(/^\d+$/), '20.0ms']);
    expect(Number(byName.get('work')?.[2])).toBeGreaterThanOrEqual(2);
    expect(byName.get('tick')?.slice(1, 4)).toEqual(['25', '0', '1.00s']);

    // a share bar and a histogram (with the budget line) per name; the violations listed
    expect(await page.locator('#shares .share').count()).toBe(2);
    // work's windows over budget go on past their violation: that time is in the bar too, so the
    // total is the windows' elapsed time; tick's windows all kept their budget
    const bars = await page.$$eval('#shares .share', (lines) =>
      lines.map((line) => {
        const parts = (
          line as unknown as { querySelectorAll(s: string): ArrayLike<unknown> }
        ).querySelectorAll('.bar > div');
        return {
          text: (line as unknown as { textContent: string | null }).textContent ?? '',
          classes: Array.from(parts, (p) => (p as { className: string }).className),
          widths: Array.from(parts, (p) =>
            Number.parseFloat((p as { style: { width: string } }).style.width),
          ),
        };
      }),
    );
    const work = bars.find((b) => b.text.startsWith('work'));
    expect(work?.classes).toEqual(['running', 'waiting', 'sleeping', 'over budget']);
    expect(work?.widths[3]).toBeGreaterThan(0);
    expect(bars.find((b) => b.text.startsWith('tick'))?.classes).toEqual(['running', 'waiting', 'sleeping']);
    expect(await page.locator('#histograms svg line').count()).toBe(2);
    // each budget label is whole inside its histogram, beside its line (tick's budget, far above
    // its windows, puts the line at the right edge)
    const labels = await page.$$eval('#histograms svg', (svgs) =>
      svgs.map((svg) => {
        const inside = svg as unknown as {
          getAttribute(n: string): string;
          querySelector(s: string): {
            getAttribute(n: string): string;
            getBBox(): { x: number; width: number };
          } | null;
        };
        const box = inside.querySelector('text')?.getBBox();
        return {
          width: Number(inside.getAttribute('viewBox').split(' ')[2]),
          line: Number(inside.querySelector('line')?.getAttribute('x1')),
          from: box?.x ?? Number.NaN,
          to: (box?.x ?? Number.NaN) + (box?.width ?? 0),
        };
      }),
    );
    expect(labels).toHaveLength(2);
    for (const l of labels) {
      expect(l.from, JSON.stringify(l)).toBeGreaterThanOrEqual(0);
      expect(l.to, JSON.stringify(l)).toBeLessThanOrEqual(l.width);
      expect(l.to <= l.line || l.from >= l.line, JSON.stringify(l)).toBe(true);
    }
    expect(labels.some((l) => l.line > l.width / 2)).toBe(true);
    expect(await page.locator('#violations tr').count()).toBeGreaterThanOrEqual(3);
    // each violation names its process and thread (window ids are per thread)
    const listed = await page.$$eval('#violations tr', (trs) =>
      trs.map((tr) => Array.from((tr as unknown as Cells).children, (td) => (td.textContent ?? '').trim())),
    );
    expect(listed[0]?.slice(2, 6)).toEqual(['id', 'pid', 'thread', 'took']);
    expect(listed[1]?.[4]).toBe('main');

    // the timeline draws every window: coloured pixels on the canvas
    expect(await page.getAttribute('body', 'data-rendered')).toBe('39');
    const painted = await page.$eval('#timeline', (c) => {
      const canvas = c as unknown as Canvas;
      const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? [];
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if ((data[i] as number) > 0) n++;
      return n;
    });
    expect(painted).toBeGreaterThan(2000);

    // zooming redraws without an error
    await page.mouse.move(400, (await page.locator('#timeline').boundingBox())?.y ?? 0);
    await page.mouse.wheel(0, -300);
    expect(opened.consoleErrors).toEqual([]);

    mkdirSync(join(root, '.tmp'), { recursive: true });
    const shot = join(root, '.tmp/report-test.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    await page.close();
  });

  it('with more lanes than fit, gives the windows over budget the first lanes and scrolls to the others', async () => {
    const dir = scratch();
    const crowded = join(dir, 'crowded.html');
    const json = join(dir, 'crowded.json');
    const out = runTlob(
      [
        ...['run', '-q', '--no-watchdog', '-p', 'p ./lib.mjs:work threshold=150ms name=work'],
        ...['--json', json, '--report', crowded, 'concurrent.mjs'],
      ],
      { env: { COUNT: '800' } },
    );
    expect(out.status, out.stderr).toBe(0);
    // all 800 calls are in flight at once, so each has its lane; those over budget have the first
    const { w } = reportModel(readRun(json)).timeline;
    const lanes = { over: [] as number[], within: [] as number[] };
    for (let i = 0; i < w.length; i += 6 + 2 * (w[i + 5] as number)) {
      ((w[i + 4] as number) & 1 ? lanes.over : lanes.within).push(w[i] as number);
    }
    expect(lanes.over.length + lanes.within.length).toBe(800);
    expect(lanes.over.length).toBeGreaterThanOrEqual(400); // the 300 ms sleepers at least
    expect(lanes.within.length).toBeGreaterThan(0);
    expect(Math.max(...lanes.over)).toBe(lanes.over.length - 1);

    const { page } = await openReport(chromium.browser, crowded);
    const note = (await page.textContent('#timeline-note')) ?? '';
    expect(note).toMatch(/Showing 800 of 800 windows\. Its 800 lanes do not fit: drag up and down/);
    // and the windows over budget (outlined in red) are drawn
    const red = await page.$eval('#timeline', (c) => {
      const canvas = c as unknown as Canvas;
      const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? [];
      let n = 0;
      for (let i = 0; i < data.length; i += 4)
        if ((data[i] as number) > 150 && (data[i + 1] as number) < 90 && (data[i + 2] as number) < 90) n++;
      return n;
    });
    expect(red).toBeGreaterThan(100);
    // the first lanes are in sight; End, then dragging down, scroll to the last ones and back
    const inSight = () =>
      page.$eval('#timeline', (c) => (c.getAttribute('data-lanes') ?? '').split('-').map(Number));
    const [first, last] = await inSight();
    expect(first).toBe(0);
    expect(last).toBeLessThan(799);
    // the thread's label, drawn above its first lane
    const labels = () => page.$eval('#timeline', (c) => c.getAttribute('data-labels') ?? '');
    const label = await labels();
    expect(label).toMatch(/^pid \d+ main/);
    await page.focus('#timeline');
    await page.keyboard.press('End');
    const [endFirst, endLast] = await inSight();
    expect(endLast).toBe(799);
    expect(endFirst).toBeGreaterThan(0);
    expect(await labels()).toBe(label); // still in sight, its first lane scrolled away
    const box = await page.$eval('#timeline', (c) => {
      const r = c.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    });
    await page.mouse.move(box.x, box.y);
    await page.mouse.down();
    await page.mouse.move(box.x, box.y + 200, { steps: 4 });
    await page.mouse.up();
    const [dragFirst] = await inSight();
    expect(dragFirst).toBeLessThan(endFirst);
    expect(dragFirst).toBeGreaterThan(0);
    await page.close();
  });

  it('marks the budget inside the histogram when every window of a name broke it', async () => {
    const allOver = join(scratch(), 'all-over.html');
    const out = runTlob(
      ['run', '-q', '-p', 'p ./lib.mjs:work threshold=1ms name=work', '--report', allOver, 'app.mjs'],
      {
        env: { WORK: '4' },
      },
    );
    expect(out.status, out.stderr).toBe(0);
    const { page } = await openReport(chromium.browser, allOver);
    const geometry = await page.$eval('#histograms svg', (svg) => {
      const attr = (e: unknown, name: string) =>
        (e as { getAttribute(n: string): string }).getAttribute(name);
      const inside = svg as unknown as {
        querySelector(s: string): unknown;
        querySelectorAll(s: string): ArrayLike<unknown>;
      };
      return {
        width: Number(attr(svg, 'viewBox').split(' ')[2]),
        line: Number(attr(inside.querySelector('line'), 'x1')),
        bars: Array.from(inside.querySelectorAll('rect'), (r) => Number(attr(r, 'x'))),
      };
    });
    expect(geometry.bars.length).toBeGreaterThan(0);
    expect(geometry.line).toBeGreaterThanOrEqual(0);
    expect(geometry.line).toBeLessThanOrEqual(geometry.width);
    // every window broke the 1 ms budget: the line is left of every bar
    for (const x of geometry.bars) expect(geometry.line).toBeLessThanOrEqual(x);
    await page.close();
  });
});
