import { realpathSync } from 'node:fs';
// not `import { createRequire }`: bundled into an application as an ES module, that binding would
// clash with the `createRequire` of the banner bundlers are commonly given to define `require`
import * as nodeModule from 'node:module';
import { isAbsolute } from 'node:path';
import type * as OpenTelemetryApi from '@opentelemetry/api';
import { TlobError } from '../index.js';
import { moduleFile } from '../module-file.js';

/** A `require` from tlob's own location (the bundle's, when bundled into an application). */
const requireHere = nodeModule.createRequire(moduleFile(import.meta.url) ?? `${process.cwd()}/`);

/**
 * The `require`s of the program's locations, for a tlob installed apart from the program (run by
 * `npx`, installed globally): its entry script's (followed through links, as Node follows the main
 * module's), then the working directory's (a program run through `npm start`, a shell script, or
 * with `node -e`). The entry script is in `process.argv[1]`, already an absolute path when a
 * preload runs, before the program's first module loads.
 */
function programRequires(): NodeJS.Require[] {
  const requires: NodeJS.Require[] = [];
  const entry = process.argv[1];
  if (entry !== undefined && isAbsolute(entry)) {
    let file = entry;
    try {
      file = realpathSync(entry);
    } catch {
      // not a file of its own (a main module named without its extension): its directory still counts
    }
    requires.push(nodeModule.createRequire(file));
  }
  requires.push(nodeModule.createRequire(`${process.cwd()}/`));
  return requires;
}

/**
 * Loads an optional peer dependency with a CommonJS `require` (so `import 'tlob'` never loads it):
 * from tlob's own location first, where an application that installed tlob finds its own copy,
 * then from the program's (`programRequires`). A missing package throws one
 * `ERR_TLOB_MISSING_PEER` error that names it. The OpenTelemetry API registers its globals on
 * `globalThis`, so its CommonJS build shares the providers of an application that imports its ESM build.
 */
export function requirePeer<T>(name: string, who: string): T {
  for (const require of [requireHere, ...programRequires()]) {
    try {
      return require(name) as T;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'MODULE_NOT_FOUND') throw error;
    }
  }
  throw new TlobError(
    'ERR_TLOB_MISSING_PEER',
    `${who}: expected the package "${name}" to be installed (npm install ${name}), got none`,
  );
}

/** The `@opentelemetry/api` module. */
export type OtelApi = typeof OpenTelemetryApi;

/** Where `@opentelemetry/api` 1.x (the peer range) keeps its global providers, under its major version's key. */
const API_GLOBALS = Symbol.for('opentelemetry.js.api.1');

/**
 * The API's global registrations (`metrics`, `trace`, …), read straight from `globalThis`:
 * `undefined` until something registers one. One property read, cheap enough to run per window
 * (`metrics.getMeterProvider()` also checks the version on every call).
 */
export function apiGlobals(): { readonly metrics?: unknown; readonly trace?: unknown } | undefined {
  return (globalThis as Record<symbol, { metrics?: unknown; trace?: unknown } | undefined>)[API_GLOBALS];
}

let api: OtelApi | undefined;

/** `@opentelemetry/api`, loaded on first use; throws `ERR_TLOB_MISSING_PEER` when it is not installed. */
export function loadApi(): OtelApi {
  api ??= requirePeer<OtelApi>('@opentelemetry/api', 'tlob/otel');
  return api;
}
