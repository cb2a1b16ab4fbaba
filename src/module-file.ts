import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The file of the module whose `import.meta.url` is `url`, or, where a bundler left it empty
 * (esbuild's CommonJS output for Node makes `import.meta` an empty object), the file of the
 * caller's frame in a stack trace: the bundle's. (Never `__filename`: a reference to it makes the
 * ES module build define it at load from `import.meta.url`, which throws in such a bundle.)
 */
export function moduleFile(url: string | undefined): string | undefined {
  if (typeof url === 'string') return fileURLToPath(url);
  const stack = new Error().stack; // not a string under a foreign Error.prepareStackTrace
  const frame = typeof stack === 'string' ? (stack.split('\n')[2] ?? '') : '';
  // `at name (place:line:column)` or `at place:line:column`; a place may hold spaces
  const place = (/\((.+):\d+:\d+\)$/.exec(frame) ?? /at (.+):\d+:\d+$/.exec(frame))?.[1];
  if (place === undefined) return undefined;
  if (place.startsWith('file://')) return fileURLToPath(place);
  return isAbsolute(place) ? place : undefined;
}
