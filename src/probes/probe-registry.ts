import { sharedRegistry } from '../shared-registry.js';

/** What the registry knows of an attached probe. */
interface RegisteredProbe {
  /** Probes with the same monitor key may not share a slot (`ERR_TLOB_ALREADY_ATTACHED`). */
  readonly monitor: unknown;
  readonly attached: boolean;
}

type Registry = WeakMap<object, Map<PropertyKey, Set<RegisteredProbe>>>;

const REGISTRY_KEY = Symbol.for('tlob.probes.registry');

/**
 * The probes attached to each slot (object + key), shared through `globalThis` so that two copies
 * of tlob in one process see each other's probes.
 */
function registry(): Registry {
  return sharedRegistry(REGISTRY_KEY, () => new WeakMap());
}

/** The attached probe of `monitor` on the slot, if there is one. */
export function findProbe(holder: object, key: PropertyKey, monitor: unknown): RegisteredProbe | undefined {
  const probes = registry().get(holder)?.get(key);
  if (probes === undefined) return undefined;
  for (const probe of probes) if (probe.attached && probe.monitor === monitor) return probe;
  return undefined;
}

/** Records `probe` on the slot. */
export function registerProbe(holder: object, key: PropertyKey, probe: RegisteredProbe): void {
  const slots = registry();
  let keys = slots.get(holder);
  if (keys === undefined) slots.set(holder, (keys = new Map()));
  let probes = keys.get(key);
  if (probes === undefined) keys.set(key, (probes = new Set()));
  probes.add(probe);
}

/** Forgets `probe`. */
export function unregisterProbe(holder: object, key: PropertyKey, probe: RegisteredProbe): void {
  const keys = registry().get(holder);
  const probes = keys?.get(key);
  if (probes === undefined) return;
  probes.delete(probe);
  if (probes.size === 0) keys?.delete(key);
}
