import { isBuiltin } from 'node:module';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeValue, TlobTypeError } from '../report/errors.js';
import { cwdRequire } from './cwd-require.js';

/** A module named by a probe: a Node builtin, a package (or package subpath), or a file. */
export interface ModuleSpecifier {
  readonly kind: 'builtin' | 'package' | 'file';
  /** As the user wrote it (for messages and `probes.list()`). */
  readonly text: string;
  /** `node:fs/promises` for builtins; the package specifier; the file URL of a file. */
  readonly id: string;
}

/**
 * Parses a module specifier: `'node:fs/promises'` or `'fs'` (builtin), `'pg'` or `'@scope/pkg/sub'`
 * (package), `'./lib/db.js'`, `'/abs/db.mjs'` or `'file:///…'` (file; relative paths resolve
 * against the current working directory).
 */
export function parseModuleSpecifier(text: unknown, caller: string): ModuleSpecifier {
  if (typeof text !== 'string' || text.trim().length === 0) {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `${caller}: expected a module specifier like "pg", "node:fs/promises" or "./lib/db.js", got ${describeValue(text)}`,
    );
  }
  if (isBuiltin(text)) {
    return { kind: 'builtin', text, id: text.startsWith('node:') ? text : `node:${text}` };
  }
  if (text.startsWith('file:')) return { kind: 'file', text, id: new URL(text).href };
  if (text.startsWith('.') || isAbsolute(text)) {
    return { kind: 'file', text, id: pathToFileURL(resolvePath(process.cwd(), text)).href };
  }
  return { kind: 'package', text, id: text };
}

/** `require.cache`: one object for the process, whichever `require` reads it. */
export function requireCache(): NodeJS.Dict<NodeJS.Module> {
  return cwdRequire().cache;
}

/** True when `value` is the `exports` of a CommonJS module in `require.cache`. */
export function isCommonJsExports(value: unknown): boolean {
  return Object.values(requireCache()).some((module) => module?.exports === value);
}

/** The file a CommonJS `require` of `specifier` from the working directory loads, if it resolves. */
export function requireResolve(specifier: ModuleSpecifier): string | undefined {
  try {
    const require = cwdRequire();
    return require.resolve(specifier.kind === 'file' ? fileURLToPath(specifier.id) : specifier.id);
  } catch {
    return undefined;
  }
}
