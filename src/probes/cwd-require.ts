import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** A `require` that resolves as code in the current working directory would (the app's modules). */
export function cwdRequire(): NodeJS.Require {
  return createRequire(pathToFileURL(`${process.cwd()}/`).href);
}
