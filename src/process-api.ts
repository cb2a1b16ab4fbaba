import { warmUpCallPath } from './monitors/tlob/warm-up.js';
import { attach as ownAttach } from './probes/attach.js';
import { budget as ownBudget } from './probes/decorators.js';
import { timeline as ownTimeline } from './report/timeline.js';
import { emitTlobWarning } from './report/tlob-warning.js';
import { sharedRegistry } from './shared-registry.js';
import { tlob as ownTlob } from './tlob.js';
import { isCompatible, TLOB_VERSION } from './version.js';

/**
 * The values of the public API that hold the process's monitoring state (the monitor and its
 * reactor, windows and their async context, the scheduler and settle hooks, the ring, the stats,
 * the probes, the timeline, the watchdog): one set per process, shared by every compatible copy of
 * tlob, so that they all run one monitor.
 */
const own = { tlob: ownTlob, attach: ownAttach, budget: ownBudget, timeline: ownTimeline };

/**
 * One entry per set of public values in the process, in load order. This shape is the one
 * contract between versions of tlob: it never changes.
 */
interface Registration {
  readonly version: string;
  readonly api: typeof own;
}

const registrations = sharedRegistry<Registration[]>(Symbol.for('tlob.api'), () => []);

/**
 * The first copy of tlob loaded in the process registers its values; a later copy (the CommonJS
 * build beside the ESM one, another version) uses those of the first registration compatible with
 * its version, or registers its own and warns once, naming the versions it cannot share with.
 */
function join(): typeof own {
  const found = registrations.find((r) => isCompatible(TLOB_VERSION, r.version));
  if (found !== undefined) return found.api;
  if (registrations.length > 0) {
    const others = [...new Set(registrations.map((r) => r.version))].join(', ');
    emitTlobWarning(
      `tlob ${TLOB_VERSION} runs on its own: the process already has tlob ${others}, which it cannot share a monitor with; windows, violations and stats of each are apart (docs/copies.md)`,
      'TLOB_INCOMPATIBLE_COPY',
    );
  }
  registrations.push({ version: TLOB_VERSION, api: own });
  return own;
}

const api = join();
// this copy's call path is the one windows will run on: its first run is not any window's
if (api === own) warmUpCallPath();

/** The `tlob` API (windows, probes, reactor, ring, stats, channels, watchdog): see `tlob` in `tlob.ts`. */
export const tlob: typeof ownTlob = api.tlob;
/** Attaches `entry`/`ret` handlers to a function in place (docs/probes.md). */
export const attach: typeof ownAttach = api.attach;
/** The `@budget` method decorator (docs/decorators.md). */
export const budget: typeof ownBudget = api.budget;
/** The timeline recorder (docs/timeline.md). */
export const timeline: typeof ownTimeline = api.timeline;
