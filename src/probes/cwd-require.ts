// not `import { createRequire }`: bundled into an application as an ES module, that binding would
// clash with the `createRequire` of the banner bundlers are commonly given to define `require`
import * as nodeModule from 'node:module';
import { pathToFileURL } from 'node:url';

/** A `require` that resolves as code in the current working directory would (the app's modules). */
export function cwdRequire(): NodeJS.Require {
  return nodeModule.createRequire(pathToFileURL(`${process.cwd()}/`).href);
}
