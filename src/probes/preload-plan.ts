import type { TlobReactor } from '../monitors/tlob/tlob-reactor.js';
import { environmentReactor, readPreloadSettings, type SpecSource } from './preload-config.js';
import { parseSpecs } from './spec-parser.js';
import { type AddSpec, applySpecs } from './spec-set.js';

/** What the preload would apply, worked out without attaching anything (`planPreload`). */
export interface PreloadPlan {
  /** The config file read, if any. */
  readonly file: string | undefined;
  /** The probes the specs leave, by `MODULE:PATH`, in the order they were added. */
  readonly probes: ReadonlyMap<string, AddSpec>;
  /** The reactor, and where it comes from; undefined: the default, `log`. */
  readonly reactor: { readonly value: TlobReactor; readonly from: string } | undefined;
}

/**
 * Replays what the preload (`tlob/register`, and so `tlob run`) does with the environment `env`,
 * then with the specs of `extra` (`tlob run -p`): the config file's specs, then `TLOB_PROBES`'s,
 * each parsed and applied in order through the code `tlob.probes.add` applies them with, and the
 * reactor (`TLOB_REACTOR` over the config file's). Throws the error the preload would, with the
 * same message, for a bad config file, spec or reactor, a second probe on one function, or the
 * removal of a probe there is not.
 */
export function planPreload(
  env: NodeJS.ProcessEnv,
  extra: readonly SpecSource[] = [],
  cwd = process.cwd(),
): PreloadPlan {
  const settings = readPreloadSettings(env, cwd);
  const probes = new Map<string, AddSpec>();
  for (const { text, from } of [...settings.specs, ...extra]) {
    applySpecs(parseSpecs(text, from), probes, from, keep, forget);
  }
  const fromEnv = environmentReactor(env, 'tlob');
  const reactor =
    fromEnv !== undefined
      ? { value: fromEnv, from: 'TLOB_REACTOR' }
      : settings.reactor !== undefined && settings.file !== undefined
        ? { value: settings.reactor, from: settings.file }
        : undefined;
  return { file: settings.file, probes, reactor };
}

const keep = (spec: AddSpec) => spec;
const forget = () => {};
