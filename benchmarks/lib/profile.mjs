// Where a variant's time goes: runs it under the V8 CPU profiler and sums self time per function.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { runJsonChild } from './child.mjs';
import { table } from './summary.mjs';

/** Self time per function (name and place) in a `.cpuprofile`, as shares of all samples. */
function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map();
  let all = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const dt = profile.timeDeltas[i] ?? 0;
    const f = node.callFrame;
    const where = f.url ? `${basename(f.url)}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    totals.set(key, (totals.get(key) ?? 0) + dt);
    all += dt;
  }
  return [...totals.entries()].map(([key, t]) => ({ key, share: t / all })).sort((a, b) => b.share - a.share);
}

/**
 * Profiles each variant of `script` once (`--variant=<name>` under `--cpu-prof`) and returns a
 * markdown section per variant with the functions holding the most self time.
 */
export async function profileVariants(script, variants, top = 15) {
  const sections = [];
  for (const variant of variants) {
    const dir = mkdtempSync(join(tmpdir(), 'tlob-prof-'));
    try {
      await runJsonChild(script, [`--variant=${variant}`], {
        nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=50'],
      });
      const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
      const rows = selfTimes(JSON.parse(readFileSync(join(dir, file), 'utf8')))
        .slice(0, top)
        .map((x) => [`\`${x.key}\``, `${(x.share * 100).toFixed(1)}%`]);
      sections.push(
        `Profile of \`${variant}\` (self time, whole process):\n\n${table(['function', 'self'], rows)}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return sections.join('\n\n');
}
