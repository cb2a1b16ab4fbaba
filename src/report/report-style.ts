/** The report's stylesheet (inlined into the page). */
export const reportStyle = `
:root { --running: #2e7d32; --waiting: #f9a825; --sleeping: #1e88e5; --over: #c62828; --fg: #1d232a; --muted: #5f6b7a; --line: #d8dee6; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #f6f8fa; }
header { padding: 16px 24px; background: #fff; border-bottom: 1px solid var(--line); display: flex; gap: 16px; align-items: baseline; }
h1 { font-size: 20px; margin: 0; }
h2 { font-size: 16px; margin: 0 0 8px; }
main { padding: 16px 24px; display: grid; grid-template-columns: minmax(0, 1fr); gap: 16px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 16px; }
.hint, .legend { color: var(--muted); margin: 0 0 8px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { font-weight: 600; background: #f0f3f6; }
td:first-child, th:first-child, .text { text-align: left; }
tr.bad td { color: var(--over); }
#violations td:nth-child(2), #violations th:nth-child(2) { text-align: left; }
.sw { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: -1px; margin: 0 4px 0 12px; }
.running { background: var(--running); } .waiting { background: var(--waiting); } .sleeping { background: var(--sleeping); } .over { background: var(--over); }
.share { display: grid; grid-template-columns: 220px 1fr 200px; gap: 8px; align-items: center; margin: 4px 0; }
.bar { display: flex; height: 18px; border-radius: 3px; overflow: hidden; background: #eef1f4; }
.bar > div { height: 100%; }
.name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
#histograms { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 12px; }
.hist h3 { font-size: 13px; margin: 0 0 4px; font-weight: 600; }
.hist svg { width: 100%; height: 140px; display: block; }
#timeline-wrap { position: relative; }
#timeline { width: 100%; display: block; border: 1px solid var(--line); cursor: grab; }
#tip { position: absolute; pointer-events: none; background: #1d232a; color: #fff; padding: 6px 8px; border-radius: 4px; font-size: 12px; white-space: pre; }
details summary { cursor: pointer; color: var(--muted); }
pre { margin: 4px 0; font-size: 12px; text-align: left; }
`;
