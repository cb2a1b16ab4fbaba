// The tlob package under test: the built package (`import 'tlob'`), or the snapshot of dist/ that
// run.mjs takes after building, so that a rebuild by someone else mid-run cannot change or remove it.
import { pathToFileURL } from 'node:url';

/** Imports tlob: the snapshot named by TLOB_BENCH_ESM when run.mjs set it, else the package. */
export function importTlob() {
  const snapshot = process.env.TLOB_BENCH_ESM;
  return snapshot ? import(pathToFileURL(snapshot).href) : import('tlob');
}

/** Imports tlob/otel from the same build as `importTlob()`. */
export function importTlobOtel() {
  const snapshot = process.env.TLOB_BENCH_ESM;
  return snapshot
    ? import(pathToFileURL(snapshot.replace(/index\.js$/, 'otel.js')).href)
    : import('tlob/otel');
}
