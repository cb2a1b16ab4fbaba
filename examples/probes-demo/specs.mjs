// Probe specs: tlob.probes.add/list/remove on a builtin and on a module loaded later
// (docs/probes.md). Run: node examples/probes-demo/specs.mjs
import { tlob } from 'tlob';

const lib = new URL('./lib.mjs', import.meta.url).href;
tlob.probes.add(`
  p ${lib}:slowSum threshold=5ms name=slowSum
  p ${lib}:default.prototype.get threshold=5ms name=cache.get
  p node:zlib:gzipSync threshold=50ms
`);
for (const line of tlob.probes.list()) console.log(`list: ${line.replace(lib, './lib.mjs')}`);

// imported after the specs: importers see the wrappers (the log reactor prints the violations)
const { slowSum, default: Cache } = await import('./lib.mjs');
console.log(`slowSum(10) = ${slowSum(10)}`);
console.log(`cache.get = ${await new Cache().get('k')}`);
const { gzipSync } = await import('node:zlib');
console.log(`gzipSync: ${gzipSync('hello').length} bytes`);

tlob.probes.add(`-${lib}:slowSum`);
console.log(`after removal: ${tlob.probes.list().length} probes`);
try {
  tlob.probes.add('p ./lib.mjs:slowSum threshold=fast');
} catch (error) {
  console.log(`${error.code}: ${error.message}`);
}
console.log(JSON.stringify(tlob.stats().map((s) => [s.name, s.count, s.violations])));
