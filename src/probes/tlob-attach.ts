import type { CallSite } from '../monitors/tlob/call-site.js';
import { tlobMonitor } from '../monitors/tlob/tlob-monitor.js';
import { checkTlobReactor } from '../monitors/tlob/tlob-reactor.js';
import { describeValue, reportInternalError, TlobTypeError } from '../report/errors.js';
import { statsByName } from '../report/stats.js';
import { violationRing } from '../report/violation-ring.js';
import { sharedRegistry } from '../shared-registry.js';
import {
  type AttachTarget,
  checkAliasesOption,
  checkTarget,
  type Probe,
  placeProbe,
  targetLabel,
} from './attach.js';
import { markHooksFromStart } from './module-registry.js';
import { checkEnvironment, type Environment, readPreloadSettings } from './preload-config.js';
import { splitPath } from './property-path.js';
import { formatProbeSpec, parseSpecs } from './spec-parser.js';
import { type AddSpec, applySpecs, noProbe, specKey } from './spec-set.js';
import {
  PairStartProbe,
  type PairState,
  PairStopProbe,
  type TlobAttachOptions,
  TlobProbe,
  tlobSite,
} from './tlob-probe.js';

/** A probe made by `tlob.attach`; `detach()` removes it (both halves of a start/stop pair). */
export interface TlobProbeHandle extends Probe<undefined> {
  /** The window name reported in results, violations and stats. */
  readonly name: string;
  readonly budgetNs: number;
  /** The stop path of a start/stop pair, else undefined. */
  readonly stopPath: string | undefined;
}

/**
 * Puts a latency budget on the function at `path` from `target` (an object, a class, or a module
 * specifier like `'pg'`, `'node:fs/promises'`, `'./lib/db.js'`): every call runs in its own
 * window, closed when the call returns, throws, or its promise settles. With `stopPath`, the
 * window opens at the entry of `path` and closes at the return of `stopPath` (`tlob.attach`).
 * @example tlob.attach('pg', 'Client.prototype.query', { budget: '20ms' });
 */
export function tlobAttach(
  target: AttachTarget | string,
  path: string,
  options: TlobAttachOptions,
): TlobProbeHandle {
  return attachSite(target, path, options, 'tlob.attach', undefined).handle;
}

/** A probe `attachSite` placed, and how to take it back leaving no trace. */
interface PlacedProbe {
  readonly handle: TlobProbeHandle;
  /** Detaches the probe and drops the stats entry it created if no window was counted there. */
  readonly retract: () => void;
}

/**
 * `tlobAttach`, its errors and warnings naming `caller` (a spec probe's name its spec and where it
 * came from), with `onRefused` called once the probe went because the module it waited for refused
 * it when it loaded (see `ProbeBase.refused`).
 */
function attachSite(
  target: AttachTarget | string,
  path: string,
  options: TlobAttachOptions,
  caller: string,
  onRefused: (() => void) | undefined,
): PlacedProbe {
  checkTarget(target, caller);
  splitPath(path, caller);
  const defaultName = typeof target === 'string' ? `${target}:${path}` : `${targetLabel(target)}.${path}`;
  const namesBefore = statsByName.size;
  // the default also for a `name` that is there but undefined (an optional setting passed on)
  const site = tlobSite(options, defaultName, caller);
  const created = statsByName.size > namesBefore && statsByName.get(site.stats.name) === site.stats;
  // a refused attach leaves no trace: the stats entry its site created goes too
  const forgetStats = () => {
    if (created && site.stats.count === 0 && statsByName.get(site.stats.name) === site.stats) {
      statsByName.delete(site.stats.name);
    }
  };
  let handle: TlobProbeHandle | undefined;
  const retract = () => {
    handle?.detach();
    forgetStats();
  };
  const refuse = () => {
    retract();
    onRefused?.();
  };
  try {
    handle = placeTlobProbes(target, path, site, options, caller, refuse);
    return { handle, retract };
  } catch (error) {
    forgetStats();
    throw error;
  }
}

/** Installs the probe of `site`, or both halves of a start/stop pair; a half that fails is undone. */
function placeTlobProbes(
  target: AttachTarget | string,
  path: string,
  site: CallSite,
  options: TlobAttachOptions,
  caller: string,
  refuse: () => void,
): TlobProbeHandle {
  checkAliasesOption(options, caller);
  const aliases = options.aliases !== false;
  const stopPath = options.stopPath;
  if (stopPath === undefined) {
    const probe = new TlobProbe(target, path, site, caller);
    probe.aliases = aliases;
    probe.onRefused = refuse;
    placeProbe(probe, target, caller);
    return probe;
  }
  splitPath(stopPath, caller);
  const pair: PairState = { site };
  const start = new PairStartProbe(target, path, pair, caller);
  const stop = new PairStopProbe(target, stopPath, pair, caller);
  start.aliases = aliases;
  stop.aliases = aliases;
  start.onRefused = refuse;
  stop.onRefused = refuse;
  placeProbe(start, target, caller);
  try {
    placeProbe(stop, target, caller);
  } catch (error) {
    start.detach();
    throw error;
  }
  return {
    target,
    path,
    priv: undefined,
    name: site.name,
    budgetNs: site.budgetNs,
    stopPath,
    get attached() {
      return start.attached;
    },
    detach() {
      start.detach();
      stop.detach();
    },
  };
}

interface SpecProbe {
  /** The spec it was added by. */
  readonly spec: AddSpec;
  readonly module: string;
  readonly path: string;
  readonly stopPath: string | undefined;
  readonly budgetNs: number;
  readonly name: string | undefined;
  readonly handle: TlobProbeHandle;
  /** Takes the probe back as if it had been refused (`PlacedProbe.retract`). */
  readonly retract: () => void;
}

/** Probes added by specs, by `MODULE:PATH`, shared by every copy of tlob in the process. */
function specProbes(): Map<string, SpecProbe> {
  return sharedRegistry(SPECS_KEY, () => new Map<string, SpecProbe>());
}

const SPECS_KEY = Symbol.for('tlob.probes.specs');

/** Attaches the probe of an add spec, as the entry of its key; its errors name `where`. */
function placeSpec(spec: AddSpec, key: string, where: string): SpecProbe {
  const { handle, retract } = attachSite(
    spec.module,
    spec.path,
    { budget: spec.threshold, name: spec.name ?? key, stopPath: spec.stopPath },
    where,
    // refused by the module when it loaded: the probe is gone, so is its spec
    () => {
      if (specProbes().get(key)?.handle === handle) specProbes().delete(key);
    },
  );
  return {
    spec,
    module: spec.module,
    path: spec.path,
    stopPath: spec.stopPath,
    budgetNs: spec.budgetNs,
    name: spec.name,
    handle,
    retract,
  };
}

/**
 * Applies specs (the text of `tlob.probes.add`), their errors naming `caller`: all are parsed
 * first; if one cannot be applied, the probes of this call already placed are taken back, leaving
 * no trace (no stats entry, not listed), those it removed are placed again, in their places of the
 * list, and the error thrown.
 */
function addSpecs(specs: string, caller: string): void {
  const parsed = parseSpecs(specs, caller);
  const set = specProbes();
  const before = [...set];
  const placed: SpecProbe[] = [];
  const removed: SpecProbe[] = [];
  const place = (spec: AddSpec, key: string, where: string) => {
    const entry = placeSpec(spec, key, where);
    placed.push(entry);
    return entry;
  };
  const unplace = (entry: SpecProbe) => {
    detachSpec(entry);
    if (!placed.includes(entry)) removed.push(entry);
  };
  try {
    applySpecs(parsed, set, caller, place, unplace);
  } catch (error) {
    for (const entry of placed) entry.retract();
    const again = new Map<SpecProbe, SpecProbe>();
    for (const entry of removed) {
      try {
        again.set(entry, placeSpec(entry.spec, specKey(entry), caller));
      } catch (thrown) {
        // its module changed since (a path that no longer resolves): it stays removed
        reportInternalError(`${caller}: putting back the probe ${specKey(entry)}`, thrown);
      }
    }
    set.clear();
    for (const [key, entry] of before) {
      const back = removed.includes(entry) ? again.get(entry) : entry;
      if (back !== undefined) set.set(key, back);
    }
    throw error;
  }
}

function detachSpec(probe: SpecProbe): void {
  probe.handle.detach();
}

function removeKey(key: string, caller: string): void {
  const probes = specProbes();
  const found = probes.get(key);
  if (found === undefined) throw noProbe(caller, key, probes);
  detachSpec(found);
  probes.delete(key);
}

/** Probe specs: the text interface (`p MODULE:PATH [STOP_PATH] threshold=DURATION [name=NAME]`). */
export const probes = {
  /**
   * Applies specs separated by `;` or newlines: `p …` adds a probe, `-MODULE:PATH` removes one. All
   * specs are parsed first (a parse error applies none); if one cannot be applied, those of this
   * call already applied are undone (probes added removed, probes removed put back) and the error
   * is thrown.
   * @example tlob.probes.add('p pg:Client.prototype.query threshold=20ms; p ./app.mjs:handle threshold=50ms');
   */
  add(specs: string): void {
    if (typeof specs !== 'string') {
      throw new TlobTypeError(
        'ERR_TLOB_INVALID_ARG',
        `tlob.probes.add: expected a spec string, got ${describeValue(specs)}`,
      );
    }
    addSpecs(specs, 'tlob.probes.add');
  },

  /** Removes the probe added for `MODULE:PATH` (`ERR_TLOB_NOT_FOUND` if there is none). */
  remove(key: string): void {
    if (typeof key !== 'string') {
      throw new TlobTypeError(
        'ERR_TLOB_INVALID_ARG',
        `tlob.probes.remove: expected "MODULE:PATH", got ${describeValue(key)}`,
      );
    }
    removeKey(key.startsWith('-') ? key.slice(1) : key, 'tlob.probes.remove');
  },

  /** The probes added by specs, one spec line each, in the format `add` reads. */
  list(): string[] {
    return [...specProbes().values()].map((p) =>
      formatProbeSpec(p.module, p.path, p.stopPath, p.budgetNs, p.name),
    );
  },

  /**
   * Applies the zero-code configuration (what `--import tlob/register` does): the config file named
   * by `TLOB_CONFIG`, or `./tlob.config.json` if present (`probes`, `reactor`, `ringSize`), then the
   * specs in `TLOB_PROBES`. Throws `ERR_TLOB_CONFIG` or `ERR_TLOB_INVALID_SPEC` for bad input,
   * `ERR_TLOB_INVALID_ARG` for an `env` that is not an object.
   */
  fromEnvironment(env: Environment = process.env): void {
    checkEnvironment(env, 'tlob.probes.fromEnvironment');
    const settings = readPreloadSettings(env);
    if (settings.specs.length > 0) markHooksFromStart();
    if (settings.reactor !== undefined) tlobMonitor.tlobReactor = checkTlobReactor(settings.reactor);
    if (settings.ringSize !== undefined) violationRing.resize(settings.ringSize);
    for (const { text, from } of settings.specs) addSpecs(text, from);
  },

  /** Removes every probe added by specs. */
  clear(): void {
    for (const key of [...specProbes().keys()]) removeKey(key, 'tlob.probes.clear');
  },
};
