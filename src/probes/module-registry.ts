import { existsSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { types } from 'node:util';
import { runOutside } from '../context/outside.js';
import { setImmediate } from '../real-timers.js';
import { reportInternalError } from '../report/errors.js';
import { sharedRegistry } from '../shared-registry.js';
import { fileOf, installModuleHooks, moduleHooksAvailable, moduleHooksMissing } from './module-hooks.js';
import { isCommonJsExports, type ModuleSpecifier, requireCache, requireResolve } from './module-specifier.js';
import { MODULE_REGISTRY_KEY, type RefusedProbe } from './probed-modules.js';
import { warnOnce } from './warn-once.js';

/**
 * One loaded instance of a module that probes name: the object probes install on, and how a
 * changed top-level export reaches the module's importers.
 */
export interface ModuleRoot {
  /** `module.exports`, a builtin's exports, or an object holding an ES module's exports. */
  readonly object: object;
  /** The module as the user named it, for messages. */
  readonly label: string;
  /** For an ES module, the exports that can be re-bound; undefined when all can (CommonJS, builtins). */
  readonly rebindable: ReadonlySet<string> | undefined;
  /** Pushes changed top-level exports to importers. */
  sync(): void;
}

/** A probe waiting for a module, or bound to its loaded instances. */
export interface ModuleProbeBinding {
  readonly path: string;
  bind(root: ModuleRoot): void;
  /**
   * Called after a loading instance of the module refused the probe (a path it does not resolve,
   * say) and that was warned about. Optional: a binding of an older copy of tlob may not have it.
   */
  refused?(): void;
}

/** How many refusals the registry keeps: a spec file applied to many modules may refuse many. */
const REFUSALS_KEPT = 100;

interface TargetEntry {
  readonly specifier: ModuleSpecifier;
  readonly bindings: Set<ModuleProbeBinding>;
  readonly roots: ModuleRoot[];
}

/**
 * The module registry, shared through `globalThis` so that two copies of tlob in one process use
 * one set of loader hooks. The loader hooks (`module-hooks.ts`) and the code they add to modules
 * call `cjsLoaded` and `esmLoaded`.
 */
export interface ModuleRegistry {
  readonly targets: Map<string, TargetEntry>;
  /** Resolved URL → target, filled by the resolve hook. */
  readonly byUrl: Map<string, TargetEntry>;
  /** URLs loaded since the hooks were installed. */
  readonly seen: Set<string>;
  /** URLs of CommonJS modules patched through their exports object. */
  readonly commonJs: Set<string>;
  /**
   * URLs of CommonJS modules whose source the load hook handed back with the statement that
   * patches their exports (absent from a registry an older copy of tlob made).
   */
  readonly epilogued?: Set<string>;
  /**
   * The probes that a loading instance of their module refused, with why (absent from a registry
   * an older copy of tlob made): the warning on stderr is easily missed, `tlob run` says it again.
   */
  refusals?: RefusedProbe[];
  hooksInstalled: boolean;
  /**
   * True when the hooks were installed before the application's entry module (the preload). This
   * copy no longer reads it; the registry is shared, and one an older copy made still does.
   */
  hooksFromStart: boolean;
  cjsLoaded(module: { exports: unknown }, url: string): void;
  /**
   * Called by the resolve hook for a CommonJS module that probes name: checks, once the current
   * task is over, that the load hook saw it (see `checkBypassed`). Optional: a registry made by an
   * older copy of tlob may not have it.
   */
  cjsResolved?(url: string): void;
  esmLoaded(
    url: string,
    namespace: object,
    names: string[],
    set: (name: string, value: unknown) => void,
  ): void;
}

/** The shared registry (created by the first copy of tlob that needs it). */
function moduleRegistry(): ModuleRegistry {
  return sharedRegistry(MODULE_REGISTRY_KEY, createRegistry);
}

function createRegistry(): ModuleRegistry {
  const registry: ModuleRegistry = {
    targets: new Map(),
    byUrl: new Map(),
    seen: new Set(),
    commonJs: new Set(),
    epilogued: new Set(),
    refusals: [],
    hooksInstalled: false,
    hooksFromStart: false,
    cjsLoaded(module, url) {
      try {
        const entry = registry.byUrl.get(url);
        const exports = module.exports;
        if (
          entry === undefined ||
          exports === null ||
          (typeof exports !== 'object' && typeof exports !== 'function')
        ) {
          return;
        }
        if (types.isModuleNamespaceObject(exports)) {
          // `require()` of an ES module hands out its namespace, which is read-only: not patched
          warnOnce(
            `require-esm:${url}`,
            `tlob: module ${entry.specifier.text} is an ES module loaded with require(): its probes are not applied to the namespace require() returns; load it with import, or attach to the object that holds the function`,
          );
          return;
        }
        registry.commonJs.add(url);
        addRoot(entry, { object: exports, label: entry.specifier.text, rebindable: undefined, sync() {} });
      } catch (error) {
        reportInternalError(`module hook for ${url}`, error);
      }
    },
    cjsResolved(url) {
      if (registry.commonJs.has(url) || pendingChecks.has(url)) return;
      pendingChecks.add(url);
      const check = () => {
        pendingChecks.delete(url);
        checkBypassed(registry, url);
      };
      // after the current task: a require() has loaded it by then, also in a script that ends
      // there (which runs no immediate); an import loads it later, which an immediate waits for
      runOutside(() =>
        process.nextTick(() => {
          try {
            if (requireCache()[fileURLToPath(url)]?.loaded === true) check();
            else runOutside(() => setImmediate(check).unref());
          } catch (error) {
            reportInternalError(`module hook for ${url}`, error);
          }
        }),
      );
    },
    esmLoaded(url, namespace, names, set) {
      try {
        const entry = registry.byUrl.get(url);
        // a CommonJS module behind a facade was patched through its exports already
        if (entry === undefined || registry.commonJs.has(url)) return;
        // (the module a facade imports may be another loader's module of the file, which the
        // hooks may not see loading: the file's own load tells)
        if (!registry.seen.has(url) && !registry.seen.has(fileOf(url))) {
          // the facade is new, but the module it imports was loaded before the hooks: whoever
          // imported it then keeps the unwrapped exports; importers from now on get the wrappers
          warnLoadedBefore(entry.specifier);
        }
        // every export is readable here (a class whose prototype a probe patches); only `names`
        // (the first segments of the probes' paths) are re-bound in the facade when they change
        const object: Record<string, unknown> = {};
        for (const name of new Set([...names, ...Object.keys(namespace)])) {
          // a name a probe gives that the module does not export stays out: its probe says so
          if (name in namespace) object[name] = (namespace as Record<string, unknown>)[name];
        }
        const bound = new Map(names.map((name) => [name, object[name]]));
        addRoot(entry, {
          object,
          label: entry.specifier.text,
          rebindable: new Set(names),
          sync() {
            for (const [name, value] of bound) {
              if (object[name] !== value) {
                bound.set(name, object[name]);
                set(name, object[name]);
              }
            }
          },
        });
      } catch (error) {
        reportInternalError(`module hook for ${url}`, error);
      }
    },
  };
  return registry;
}

/** URLs resolved by the hooks whose load is yet to be checked. */
const pendingChecks = new Set<string>();

/**
 * A CommonJS module that probes name was resolved and has loaded, but its source never passed
 * through the load hook: another loader replaced `require.extensions['.js']` (babel-register,
 * some test runners) and compiles modules itself. The probe binds to the loaded exports now, and
 * one warning says what was missed.
 */
function checkBypassed(registry: ModuleRegistry, url: string): void {
  try {
    const entry = registry.byUrl.get(url);
    if (entry === undefined || registry.commonJs.has(url)) return;
    const cached = requireCache()[fileURLToPath(url)];
    if (cached?.loaded !== true) return;
    if (registry.seen.has(url) && registry.epilogued?.has(url) !== true) {
      // the load hook saw it, without a source to add to (Node 22 leaves the source of a
      // CommonJS module that `import` loads to the CommonJS loader): not bypassed, bind it now
      registry.cjsLoaded(cached, url);
      return;
    }
    // never loaded through the hooks, or loaded from another source than the one they handed back
    warnOnce(
      `bypassed:${url}`,
      `tlob: module ${entry.specifier.text} loaded without passing through tlob's module hooks, most likely because another loader compiled it itself (one that replaced require.extensions['.js'] or ['.ts'], as babel-register and tsx do), which no order of the preloads avoids (tlob/register first, as \`tlob run\` loads it, or last): its probes were attached only after it loaded, so calls made while it loaded, and functions taken from it then, are not observed; to observe those, probe a method of an exported class or object (\`Service.prototype.handle\`: its calls go through the object), or run the compiled JavaScript without that loader`,
      'TLOB_HOOKS_BYPASSED',
    );
    registry.cjsLoaded(cached, url);
  } catch (error) {
    reportInternalError(`module hook for ${url}`, error);
  }
}

function addRoot(entry: TargetEntry, root: ModuleRoot): void {
  entry.roots.push(root);
  for (const binding of entry.bindings) bindGuarded(binding, root);
}

/** Binds a probe to a loaded module instance at the probe's attach time: errors are thrown. */
function bindNow(binding: ModuleProbeBinding, root: ModuleRoot): void {
  if (
    root.rebindable !== undefined &&
    !binding.path.includes('.') &&
    !root.rebindable.has(binding.path) &&
    binding.path in root.object // a name the module does not export: `bind` says so
  ) {
    warnOnce(
      `${root.label}:${binding.path}`,
      `tlob: probe ${root.label}:${binding.path} was added after the ES module loaded; its importers keep the unwrapped export`,
    );
    return;
  }
  binding.bind(root);
}

/** Binds a probe to a module instance as it loads: errors are reported, never thrown into the loader. */
function bindGuarded(binding: ModuleProbeBinding, root: ModuleRoot): void {
  try {
    bindNow(binding, root);
  } catch (error) {
    if (bindThroughCommonJsDefault(binding, root, error)) return;
    if (isTlobUsageError(error)) {
      // the spec does not fit the module that loaded (a name it does not export, say): the
      // user's to fix, not tlob's failure
      warnOnce(
        `${root.label}:${binding.path}`,
        `tlob: probe ${root.label}:${binding.path} not applied: ${error.message}`,
      );
      noteRefusal(root.label, binding.path, error.message);
      binding.refused?.();
      return;
    }
    reportInternalError(`probe ${root.label}:${binding.path}`, error);
  }
}

/** Keeps a refusal in the registry, once (an ES facade and its CommonJS instance may both refuse a probe). */
function noteRefusal(module: string, path: string, reason: string): void {
  const registry = moduleRegistry();
  registry.refusals ??= []; // a registry an older copy made
  const refusals = registry.refusals;
  if (
    refusals.length >= REFUSALS_KEPT ||
    refusals.some((r) => r.module === module && r.path === path && r.reason === reason)
  )
    return;
  refusals.push({ module, path, reason });
}

/** An error tlob throws for a usage that cannot work (`ERR_TLOB_NOT_FOUND`, `ERR_TLOB_NOT_PATCHABLE`, …). */
function isTlobUsageError(error: unknown): error is Error {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_TLOB_');
}

/**
 * An ES entry that re-exports its package's CommonJS entry as `default` (eventemitter3's
 * `import EventEmitter from './index.js'; export default EventEmitter`) is the CommonJS instance
 * seen through a second path: a probe path written for the CommonJS exports (`prototype.emit`)
 * does not resolve on the ES exports, but does from their `default`, which is patched in place.
 * Returns whether the probe is bound that way (or already was, through the CommonJS instance).
 */
function bindThroughCommonJsDefault(binding: ModuleProbeBinding, root: ModuleRoot, error: unknown): boolean {
  if (root.rebindable === undefined || (error as { code?: unknown } | null)?.code !== 'ERR_TLOB_NOT_FOUND') {
    return false;
  }
  const exports = (root.object as { default?: unknown }).default;
  if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) return false;
  if (!isCommonJsExports(exports)) return false;
  try {
    binding.bind({ object: exports, label: root.label, rebindable: undefined, sync() {} });
    return true;
  } catch {
    return false; // the original error is reported
  }
}

/**
 * Attaches `binding` to the module named by `specifier`: now, to every instance already loaded
 * that can be reached (builtins, CommonJS modules in `require.cache`), and through the loader hooks
 * to every instance loaded later. Warns once when the module was already loaded as an ES module,
 * which cannot be patched after the fact.
 */
export function addModuleProbe(specifier: ModuleSpecifier, binding: ModuleProbeBinding): void {
  const registry = moduleRegistry();
  let entry = registry.targets.get(specifier.id);
  const fresh = entry === undefined;
  if (entry === undefined) {
    entry = { specifier, bindings: new Set(), roots: [] };
    registry.targets.set(specifier.id, entry);
  }
  if (specifier.kind === 'builtin') {
    if (fresh) {
      const exports = process.getBuiltinModule(specifier.id) as object;
      entry.roots.push({
        object: exports,
        label: specifier.text,
        rebindable: undefined,
        sync: syncBuiltinESMExports,
      });
    }
    entry.bindings.add(binding);
    for (const root of entry.roots) binding.bind(root);
    return;
  }
  if (fresh) adoptLoadedCommonJs(registry, entry);
  entry.bindings.add(binding);
  for (const root of entry.roots) bindNow(binding, root);
  installModuleHooks(registry);
  if (!moduleHooksAvailable()) {
    if (entry.roots.length === 0) {
      warnOnce(
        'no-hooks',
        `tlob: ${moduleHooksMissing()}: probes can patch only modules already loaded by require`,
      );
    }
    return;
  }
  if (fresh && specifier.kind === 'file') warnIfNoFile(specifier);
  const filename = specifier.kind === 'file' ? fileURLToPath(specifier.id) : requireResolve(specifier);
  const url = specifier.kind === 'file' ? specifier.id : filename && pathToFileURL(filename).href;
  if (entry.roots.length > 0 || url === undefined) return;
  if (registry.seen.has(url)) warnLoadedBefore(specifier);
}

/**
 * A file spec whose file is not there (a relative path resolved against another working
 * directory, most often) would otherwise wait silently for a module that never loads.
 */
function warnIfNoFile(specifier: ModuleSpecifier): void {
  const filename = fileURLToPath(specifier.id);
  if (existsSync(filename) || requireResolve(specifier) !== undefined) return;
  warnOnce(
    `missing:${specifier.id}`,
    `tlob: module ${specifier.text} of a probe is not there: no file at ${filename} (a relative path resolves against the working directory, ${process.cwd()}); its probes apply only if that file loads`,
  );
}

function warnLoadedBefore(specifier: ModuleSpecifier): void {
  warnOnce(
    specifier.id,
    `tlob: module ${specifier.text} was loaded before its probe was added: the importers it had then keep the unwrapped exports; add probes before the module loads (for instance with --import tlob/register)`,
  );
}

/** Marks the hooks as installed before the application started (called by `tlob/register`). */
export function markHooksFromStart(): void {
  const registry = moduleRegistry();
  if (!registry.hooksInstalled) registry.hooksFromStart = true;
  installModuleHooks(registry);
}

/** A CommonJS module already in `require.cache` is patched in place. */
function adoptLoadedCommonJs(registry: ModuleRegistry, entry: TargetEntry): void {
  const filename = requireResolve(entry.specifier);
  if (filename === undefined) return;
  const cached = requireCache()[filename];
  if (cached?.loaded !== true) return;
  const url = pathToFileURL(filename).href;
  registry.byUrl.set(url, entry);
  registry.cjsLoaded(cached, url);
}

/** Forgets a detached probe (its wrappers are restored by the probe itself). */
export function forgetModuleProbe(target: string, binding: ModuleProbeBinding): void {
  for (const entry of moduleRegistry().targets.values()) {
    if (entry.specifier.text === target) entry.bindings.delete(binding);
  }
}
