/** The key of the module registry every copy of tlob in the process shares (`module-registry.ts`). */
export const MODULE_REGISTRY_KEY = Symbol.for('tlob.probes.modules');

/** What of the shared registry `probedModules` reads: its targets, as every copy makes them. */
interface Targets {
  readonly targets?: ReadonlyMap<
    string,
    {
      readonly specifier: { readonly text: string };
      readonly bindings: ReadonlySet<unknown>;
      readonly roots: readonly unknown[];
    }
  >;
}

/**
 * The modules that probes of this thread name (as the user wrote them), each with whether an
 * instance of it has loaded: a module that never loads by the end of a run was most likely
 * misspelt, or is not the one the program loads. Read from the shared registry, so that it sees
 * the probes of whichever copy of tlob made them (the preload's collector is bundled apart).
 */
export function probedModules(): { module: string; loaded: boolean }[] {
  const registry = (globalThis as Record<symbol, Targets | undefined>)[MODULE_REGISTRY_KEY];
  const modules: { module: string; loaded: boolean }[] = [];
  for (const entry of registry?.targets?.values() ?? [])
    if (entry.bindings.size > 0)
      modules.push({ module: entry.specifier.text, loaded: entry.roots.length > 0 });
  return modules;
}
