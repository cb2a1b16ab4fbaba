import { TlobError } from '../report/errors.js';
import type { ProbeSpec } from './spec-parser.js';

/** A parsed spec that adds a probe. */
export type AddSpec = Extract<ProbeSpec, { op: 'add' }>;

/** The key of the function a spec names, `MODULE:PATH`: one spec probe per key. */
export function specKey(spec: { readonly module: string; readonly path: string }): string {
  return `${spec.module}:${spec.path}`;
}

/**
 * Applies parsed specs in order to `set`, the spec probes by `MODULE:PATH`: `place` makes the entry
 * of an add (its errors to name `where`: `caller` and the spec), `unplace` takes away the entry of a
 * removal. A second probe on one function (`ERR_TLOB_ALREADY_ATTACHED`) or the removal of one there
 * is not (`ERR_TLOB_NOT_FOUND`) throws, naming `caller` and the spec, before anything of that spec
 * is done.
 * `tlob.probes.add` attaches through it; the `tlob` command replays the preload's specs through it
 * with entries that attach nothing, so both refuse the same specs with the same message.
 */
export function applySpecs<T>(
  specs: readonly ProbeSpec[],
  set: Map<string, T>,
  caller: string,
  place: (spec: AddSpec, key: string, where: string) => T,
  unplace: (entry: T) => void,
): void {
  for (const spec of specs) {
    const key = specKey(spec);
    const where = `${caller}: ${spec.text}`;
    if (spec.op === 'add') {
      if (set.has(key)) {
        throw new TlobError(
          'ERR_TLOB_ALREADY_ATTACHED',
          `${where}: ${key} already has a probe (remove it first with -${key})`,
        );
      }
      set.set(key, place(spec, key, where));
      continue;
    }
    const found = set.get(key);
    if (found === undefined) throw noProbe(where, key, set);
    unplace(found);
    set.delete(key);
  }
}

/** `ERR_TLOB_NOT_FOUND` for the removal of `key` from `set`, which has no probe there. */
export function noProbe(where: string, key: string, set: ReadonlyMap<string, unknown>): TlobError {
  return new TlobError(
    'ERR_TLOB_NOT_FOUND',
    `${where}: no probe ${key} to remove (probes: ${[...set.keys()].join(', ') || 'none'})`,
  );
}
