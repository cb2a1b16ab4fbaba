import * as nodeModule from 'node:module';
import { initSync, parse } from 'es-module-lexer';
import type { ModuleRegistry } from './module-registry.js';

/*
 * Loader hooks for modules that probes name, with `module.registerHooks` (synchronous, in-thread;
 * Node 22.15+ and 23.5+), so one mechanism serves `require` and `import`, with no loader thread:
 *
 * - CommonJS (loaded by `require` or by `import`): the load hook appends one statement to the
 *   module's source that hands `module.exports` to the registry when the module body has run, so
 *   the exports object is patched before anyone (including the ESM named-exports snapshot) sees it.
 * - ES modules: a live binding can only be re-bound by the module that exports it, so the resolve
 *   hook sends importers of a named module to a small facade module instead (the module's URL plus
 *   `?tlob-probe`), which imports the real module (whose URL, `import.meta.url` and evaluation
 *   are unchanged), re-exports all of it (`export *`, plus `default`), and exports the probed names
 *   as `let` bindings it re-binds to the wrappers. Every export form works the same way
 *   (`export function`, `export class`, `export const f = () => …`, `export default`, re-exports).
 *
 * Only modules that probes name are touched; for every other module the hooks only pass through
 * (and remember the URL, to warn about probes added after their module loaded).
 */

const FACADE_PARAM = 'tlob-probe';

/**
 * Why `module.registerHooks` threw when called (a test runner's module system that refuses it,
 * as Jest's does), or undefined.
 */
let refusal: string | undefined;

/** True when this Node.js has `module.registerHooks`, and it did not refuse the hooks. */
export function moduleHooksAvailable(): boolean {
  return (
    typeof (nodeModule as { registerHooks?: unknown }).registerHooks === 'function' && refusal === undefined
  );
}

/** Why module hooks are not available here, for a warning. */
export function moduleHooksMissing(): string {
  return refusal === undefined
    ? 'module.registerHooks is not available (Node 22.15+ needed)'
    : `module.registerHooks refused the hooks (${refusal})`;
}

type ResolveResult = { url: string; format?: string | null | undefined; [key: string]: unknown };
type LoadResult = { format?: string | null | undefined; source?: unknown; [key: string]: unknown };
type ResolveContext = { conditions?: string[]; parentURL?: string | undefined; [key: string]: unknown };

/** Installs the hooks once per process (the registry is shared by every copy of tlob). */
export function installModuleHooks(registry: ModuleRegistry): void {
  if (registry.hooksInstalled || !moduleHooksAvailable()) return;
  const registerHooks = (nodeModule as unknown as { registerHooks: (hooks: object) => unknown })
    .registerHooks;
  try {
    registerModuleHooks(registry, registerHooks);
    registry.hooksInstalled = true;
  } catch (error) {
    refusal = String((error as Error)?.message ?? error).split('\n')[0];
  }
}

function registerModuleHooks(registry: ModuleRegistry, registerHooks: (hooks: object) => unknown): void {
  registerHooks({
    resolve(
      specifier: string,
      context: ResolveContext,
      nextResolve: (s: string, c: ResolveContext) => ResolveResult,
    ) {
      const result = nextResolve(specifier, context);
      // by its file: another loader may have sent it to a module of its own (`lib.mjs?iitm=true`);
      // by its URL: a package's module imported again by its path, not its name
      const entry =
        registry.targets.get(specifier) ??
        registry.targets.get(fileOf(result.url)) ??
        registry.byUrl.get(result.url);
      if (entry === undefined) return result;
      registry.byUrl.set(result.url, entry);
      // imported by a module of the same file: our facade, or another loader's wrapper module
      // (import-in-the-middle's `?iitm=true`), which must reach the module it wraps, or the two
      // would import each other in a cycle
      const fromSameFile = context.parentURL !== undefined && sameFile(context.parentURL, result.url);
      // TypeScript run by Node (type stripping) or by tsx resolves with no format: a .ts module
      // that `require` loads is CommonJS; one that `import` loads may be either kind, and a facade
      // over a CommonJS module is harmless (the registry ignores it)
      const untyped = result.format === undefined || result.format === null;
      const esm =
        result.format === 'module' ||
        result.format === 'module-typescript' ||
        (untyped && /\.mts$/.test(result.url)) ||
        (untyped && /\.ts$/.test(result.url) && context.conditions?.includes('require') !== true);
      if (esm && !fromSameFile && context.conditions?.includes('import') === true) {
        return { ...result, url: facadeUrl(result.url) };
      }
      if (!esm && result.url.startsWith('file:') && !/\.(json|node|wasm)$/.test(result.url)) {
        registry.cjsResolved?.(result.url);
      }
      return result;
    },
    load(url: string, context: object, nextLoad: (u: string, c: object) => LoadResult) {
      const original = originalUrl(url);
      if (original !== undefined) {
        const loaded = nextLoad(original, context);
        return {
          format: 'module',
          source: facadeSource(original, sourceText(loaded.source), registry),
          shortCircuit: true,
        };
      }
      const result = nextLoad(url, context);
      registry.seen.add(url);
      const entry = registry.byUrl.get(url);
      if (entry === undefined || result.source === undefined || result.source === null) return result;
      const commonJs =
        result.format === 'commonjs' ||
        result.format === 'commonjs-typescript' ||
        ((result.format === undefined || result.format === null) && !/\.(json|node|wasm)$/.test(url));
      if (commonJs) {
        registry.epilogued?.add(url);
        return { ...result, source: `${sourceText(result.source)}${cjsEpilogue(url)}` };
      }
      return result;
    },
  });
}

function facadeUrl(url: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${FACADE_PARAM}`;
}

/** `url` without its query and fragment: the file a loader's module URL is made from. */
export function fileOf(url: string): string {
  const end = url.search(/[?#]/);
  return end < 0 ? url : url.slice(0, end);
}

/** Whether two URLs name the same file, whatever their queries (another loader's, or ours). */
function sameFile(a: string, b: string): boolean {
  return fileOf(a) === fileOf(b);
}

/**
 * The module a facade URL stands for, or undefined for any other URL. Read as a URL, not as text:
 * another loader may add its own query after ours and write ours again (`?tlob-probe=&iitm=true`).
 */
function originalUrl(url: string): string | undefined {
  if (!url.includes(FACADE_PARAM)) return undefined;
  const parsed = new URL(url);
  if (!parsed.searchParams.has(FACADE_PARAM)) return undefined;
  parsed.searchParams.delete(FACADE_PARAM);
  return parsed.href;
}

function sourceText(source: unknown): string {
  if (typeof source === 'string') return source;
  if (source instanceof Uint8Array)
    return Buffer.from(source.buffer, source.byteOffset, source.byteLength).toString('utf8');
  return String(source);
}

const REGISTRY_EXPR = "globalThis[Symbol.for('tlob.probes.modules')]";

function cjsEpilogue(url: string): string {
  return `\n;${REGISTRY_EXPR}?.cjsLoaded(module, ${JSON.stringify(url)});\n`;
}

let lexerReady = false;

/** What follows `export default` when it exports an interface (`export default interface Options {…}`). */
const INTERFACE_AFTER = /^(?:\s|\/\*[\s\S]*?\*\/|\/\/[^\n]*\n)*interface\b/;
/** An export specifier up to `default` that names a type (`export { x, type Options as default }`). */
const TYPE_SPECIFIER = /^\s*type\s+[\w$]+\s+as\s*$/;

/**
 * Whether the `default` export the lexer found (its name at `start`..`end`) is a type in
 * TypeScript: the lexer counts it as an export, but type stripping leaves nothing of it, and a
 * facade that re-exported it would not link.
 */
function defaultIsType(source: string, start: number, end: number): boolean {
  if (INTERFACE_AFTER.test(source.slice(end))) return true;
  const specifier = source
    .slice(source.lastIndexOf('{', start) + 1, start)
    .split(',')
    .pop() as string;
  return TYPE_SPECIFIER.test(specifier);
}

/** The exports of an ES module's source, and whether it has `export * from` (names the lexer cannot list). */
function moduleExports(source: string): { names: Set<string>; star: boolean } {
  if (!lexerReady) {
    initSync();
    lexerReady = true;
  }
  const [imports, exports] = parse(source);
  const names = new Set(
    exports.filter((e) => !(e.n === 'default' && defaultIsType(source, e.s, e.e))).map((e) => e.n),
  );
  const star = imports.some((i) => i.d === -1 && /^export\s*\*\s*from/.test(source.slice(i.ss, i.s)));
  return { names, star };
}

/** The facade module of an ES module that probes name (see the comment at the top). */
function facadeSource(url: string, source: string, registry: ModuleRegistry): string {
  const entry = registry.byUrl.get(url);
  const { names, star } = moduleExports(source);
  const probed = new Set<string>();
  for (const binding of entry?.bindings ?? []) {
    const first = binding.path.split('.')[0] as string;
    if (names.has(first) || (star && first !== 'default')) probed.add(first);
  }
  const target = JSON.stringify(url);
  const lines = [`import * as ns from ${target};`, `export * from ${target};`];
  if (names.has('default') && !probed.has('default')) lines.push(`export { default } from ${target};`);
  const cases: string[] = [];
  [...probed].forEach((name, i) => {
    const quoted = JSON.stringify(name);
    lines.push(`let b${i} = ns[${quoted}];`, `export { b${i} as ${quoted} };`);
    cases.push(`case ${quoted}: b${i} = value; break;`);
  });
  lines.push(
    `${REGISTRY_EXPR}?.esmLoaded(${target}, ns, ${JSON.stringify([...probed])}, (name, value) => { switch (name) { ${cases.join(' ')} } });`,
  );
  return lines.join('\n');
}
