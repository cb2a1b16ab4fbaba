import { reportClientScript } from './report-client.js';
import { reportModel } from './report-model.js';
import { reportStyle } from './report-style.js';
import type { RunData } from './run-data.js';
import { runNotes } from './run-notes.js';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

/**
 * The HTML report of a run: one self-contained page (styles, script and data inlined; a
 * Content-Security-Policy that allows no network at all) that opens from `file://`. Its script
 * draws the per-name table, the split bars, the latency histograms, the violation list and a
 * zoomable timeline from an aggregated, sampled model of the run (see `reportModel`).
 */
export function renderReport(data: RunData): string {
  const model = reportModel(data);
  // `<` escaped so that no string in the data can close the script element
  const json = JSON.stringify(model).replace(/</g, '\\u003c');
  const title = `tlob report: ${model.command}`;
  const { missing, probes } = runNotes(data);
  const notes = [...missing, ...probes];
  // what the numbers leave out, above them
  const notesSection =
    notes.length === 0
      ? ''
      : `<section id="notes"><h2>Notes</h2><ul>${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul></section>\n`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${reportStyle}</style>
</head>
<body>
<header><h1>tlob report</h1><code id="command">${escapeHtml(model.command)}</code></header>
<main>
${notesSection}<section><h2>Windows by name</h2><p class="hint">Percentiles of each window's elapsed time and of the time it spent running on the JS thread, waiting behind other work, and sleeping on something not ready.</p><div class="scroll"><table id="names"></table></div></section>
<section><h2>Where the time goes</h2><div id="shares"></div><p class="legend"><span class="sw running"></span>running <span class="sw waiting"></span>waiting <span class="sw sleeping"></span>sleeping <span class="sw over"></span>over budget (no longer monitored)</p></section>
<section><h2>Latency histograms</h2><p class="hint">Elapsed time per window, log scale; the red line is the budget.</p><div id="histograms"></div></section>
<section><h2>Timeline</h2><p class="hint" id="timeline-note"></p><p class="hint">Wheel or +/- to zoom, drag to pan, double-click to reset; Shift+wheel or the arrow keys scroll lanes that do not fit. Each row is a lane of a thread; a window is coloured by state over time.</p><div id="timeline-wrap"><canvas id="timeline" height="320"></canvas><div id="tip" hidden></div></div></section>
<section><h2>Violations</h2><div class="scroll"><table id="violations"></table></div></section>
</main>
<script id="data" type="application/json">${json}</script>
<script>${reportClientScript}</script>
</body>
</html>
`;
}
