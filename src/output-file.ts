import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Why `file` cannot be written, checked before a command runs anything: the path is a directory,
 * its directory is missing, or it (or its directory, when it does not exist yet) is not writable.
 * `undefined` when it can be written.
 */
export function unwritableReason(file: string): string | undefined {
  const path = resolve(file);
  const exists = existsSync(path);
  if (exists && statSync(path).isDirectory()) return `expected a file to write, got the directory "${file}"`;
  const dir = dirname(path);
  if (!exists && !existsSync(dir)) return `cannot write "${file}": the directory ${dir} does not exist`;
  try {
    accessSync(exists ? path : dir, constants.W_OK);
  } catch (error) {
    return `cannot write "${file}": ${(error as Error).message}`;
  }
  return undefined;
}
