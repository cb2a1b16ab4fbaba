import { fileURLToPath } from 'node:url';

/**
 * The file of the module whose `import.meta.url` is `url`, or, where a bundler left it empty
 * (esbuild's CommonJS output for Node makes `import.meta` an empty object), the file of the
 * caller's frame in a stack trace: the bundle's. (Never `__filename`: a reference to it makes the
 * ES module build define it at load from `import.meta.url`, which throws in such a bundle.)
 */
export function moduleFile(url: string | undefined): string | undefined {
  if (typeof url === 'string') return fileURLToPath(url);
  const frame = new Error().stack?.split('\n')[2] ?? '';
  const place = /\(?([^\s(]+):\d+:\d+\)?$/.exec(frame)?.[1];
  if (place === undefined) return undefined;
  return place.startsWith('file://') ? fileURLToPath(place) : place;
}
