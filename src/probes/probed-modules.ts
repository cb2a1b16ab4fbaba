/** The key of the module registry every copy of tlob in the process shares (`module-registry.ts`). */
export const MODULE_REGISTRY_KEY = Symbol.for('tlob.probes.modules');

/**
 * What of the shared registry `probedModules` and `refusedProbes` read: its targets, as every copy
 * makes them, and its refusals (absent from a registry an older copy made).
 */
interface Targets {
  readonly refusals?: readonly RefusedProbe[];
  readonly targets?: ReadonlyMap<
    string,
    {
      readonly specifier: { readonly text: string };
      readonly bindings: ReadonlySet<unknown>;
      readonly roots: readonly unknown[];
    }
  >;
}

/** A module that probes of a thread name (`probedModules`). */
export interface ProbedModule {
  /** As the user wrote it. */
  module: string;
  loaded: boolean;
  /** The probes on it, by path, with the name of their windows. */
  probes: { path: string; name: string }[];
}

/**
 * The modules that probes of this thread name (as the user wrote them), each with whether an
 * instance of it has loaded (a module that never loads by the end of a run was most likely
 * misspelt, or is not the one the program loads) and its probes with their window names (a probe
 * of a module that loaded, whose name no window of the run has, was never called through). Read
 * from the shared registry, so that it sees the probes of whichever copy of tlob made them (the
 * preload's collector is bundled apart).
 */
export function probedModules(): ProbedModule[] {
  const registry = (globalThis as Record<symbol, Targets | undefined>)[MODULE_REGISTRY_KEY];
  const modules: ProbedModule[] = [];
  for (const entry of registry?.targets?.values() ?? []) {
    if (entry.bindings.size === 0) continue;
    const probes: { path: string; name: string }[] = [];
    for (const binding of entry.bindings) {
      // a probe refused (a second one on the same function) or detached counts no call
      if ((binding as { attached?: unknown }).attached === false) continue;
      const name = windowName(binding);
      if (name !== undefined) probes.push({ path: (binding as { path: string }).path, name });
    }
    modules.push({ module: entry.specifier.text, loaded: entry.roots.length > 0, probes });
  }
  return modules;
}

/** A probe that its module refused as it loaded (`refusedProbes`). */
export interface RefusedProbe {
  /** As the user wrote it. */
  module: string;
  path: string;
  /** Why: the message of the warning that said so. */
  reason: string;
}

/**
 * The probes of this thread that a loading instance of their module refused (a path it does not
 * resolve, a function that already has a probe), with why: they measured nothing, which a warning
 * on stderr said once, among the program's own output. Read from the shared registry, as
 * `probedModules`.
 */
export function refusedProbes(): RefusedProbe[] {
  const registry = (globalThis as Record<symbol, Targets | undefined>)[MODULE_REGISTRY_KEY];
  return (registry?.refusals ?? []).map(({ module, path, reason }) => ({ module, path, reason }));
}

/**
 * The window name of a tlob probe, or of either probe of a start/stop pair; undefined for others
 * (a probe of `attach` with handlers of its own).
 */
function windowName(binding: unknown): string | undefined {
  const b = binding as { site?: { name?: unknown }; pair?: { site?: { name?: unknown } } };
  const name = b.site?.name ?? b.pair?.site?.name;
  return typeof name === 'string' ? name : undefined;
}
