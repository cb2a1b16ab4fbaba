import type { RunData } from './run-data.js';

/** How many pids, threads or modules a note lists before "and N more" (a pool ends its workers by the thousand). */
const LISTED = 10;

function listed(ids: readonly string[]): string {
  const more = ids.length - LISTED;
  return more > 0 ? `${ids.slice(0, LISTED).join(', ')} and ${more} more` : ids.join(', ');
}

/**
 * What the numbers of a run leave out, said in words: threads and processes that ended before they
 * wrote all their data, probes on modules that never loaded, probes no call came through. The
 * summary of `tlob run` prints them, and the HTML report shows them above its tables.
 */
export interface RunNotes {
  /** Before the numbers: data that is missing from them. */
  readonly missing: string[];
  /** After them: probes that measured nothing, and why that may be. */
  readonly probes: string[];
}

/** The notes of a run (`RunNotes`), from its merged data. */
export function runNotes(data: RunData): RunNotes {
  const missing: string[] = [];
  // a worker with no window at its last save lost nothing known (a library's helper thread, as a
  // pino transport's or esbuild's, that its process ends unjoined): left out
  const partial = data.threads.filter(
    (t) => t.partial === true && t.threadId !== 0 && (t.names.length > 0 || t.violations.length > 0),
  );
  if (partial.length > 0)
    missing.push(
      `${partial.length} worker thread(s) ended without their final write, terminated or still running at exit: ` +
        `their windows are counted up to their last save, which missed at most their last second and at most half of their windows ` +
        `while they ran (a thread held in a loop saves nothing; its window over budget is kept as the watchdog reported it): ` +
        `${listed(partial.map((t) => `${t.pid}/${t.threadId}`))}`,
    );
  const unwritten = data.threads.filter((t) => t.partial === true && t.threadId === 0);
  if (unwritten.length > 0)
    missing.push(
      `${unwritten.length} process(es) ended without writing their data, killed by a signal they do not handle or ` +
        `still running when tlob stopped waiting for them: ${listed(unwritten.map((t) => String(t.pid)))}`,
    );
  const probes: string[] = [];
  const refused = data.refusedProbes ?? [];
  if (refused.length > 0)
    probes.push(
      `probes refused by their module as it loaded, so they measured nothing: ` +
        `${listed(refused.map((r) => `${r.probe} (${r.reason})`))}`,
    );
  const unloaded = data.unloadedProbeModules ?? [];
  if (unloaded.length > 0)
    probes.push(
      `probes name modules the program never loaded, so they measured nothing: ${listed(unloaded)}; ` +
        'a misspelt name, a file path without ./, a relative path from a process in another directory, ' +
        'or a module bundled into another file? see docs/probes.md',
    );
  const uncalled = data.uncalledProbes ?? [];
  if (uncalled.length > 0)
    probes.push(
      `no call came through these probes, on modules that loaded: ${listed(uncalled)}; ` +
        'a module probe replaces an export, so calls from inside its own module, and through a reference taken ' +
        'before it loaded, do not reach it (see "What module probes cannot do" in docs/probes.md); or the program did not call it',
    );
  return { missing, probes };
}
