// What a caller can still tell apart once a function is probed, measured on the npm package
// `async` (docs/probes.md, "What the caller sees").
// Run: node examples/probes-demo/what-callers-see.mjs   (outside tlob's repository: npm install async first)
import { createRequire } from 'node:module';
import { types } from 'node:util';
import { tlob } from 'tlob';

const require = createRequire(import.meta.url);
const async = require('async');
tlob.reactor('nop');

const taken = async.each; // a reference taken before attaching
const before = {
  aliases: async.each === async.forEach,
  name: async.each.name,
  length: async.each.length,
  source: Function.prototype.toString.call(async.each).length,
};
const probe = tlob.attach(async, 'each', { budget: '1s', name: 'async.each', callback: true });
const after = {
  aliases: async.each === async.forEach,
  name: async.each.name,
  length: async.each.length,
  source: Function.prototype.toString.call(async.each).length,
};
for (const key of ['aliases', 'name', 'length']) {
  console.log(`${key}: ${JSON.stringify(before[key])} -> ${JSON.stringify(after[key])}`);
}
console.log(`toString differs: ${before.source !== after.source}`);
console.log(`a reference taken before attach is the original: ${taken !== async.each}`);

// an async function: its wrapper inherits AsyncFunction.prototype, but not the internal slot
const repo = { async load() {} };
const load = repo.load;
const loadProbe = tlob.attach(repo, 'load', { budget: '1s' });
console.log(`async function tag: ${load[Symbol.toStringTag]} -> ${repo.load[Symbol.toStringTag]}`);
console.log(
  `isAsyncFunction (internal slot): ${types.isAsyncFunction(load)} -> ${types.isAsyncFunction(repo.load)}`,
);
loadProbe.detach();
console.log(
  `shimmer markers: __wrapped=${async.each.__wrapped} __original is the original: ${async.each.__original === taken}`,
);

// promise-style with an async iteratee: not taken for the completion callback, so it resolves
const seen = [];
await async.each([1, 2, 3], async (x) => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  seen.push(x);
});
// callback-style: the window closes when the final callback is called
await new Promise((resolve) => async.forEach([1, 2], (_x, cb) => setTimeout(cb, 5), resolve));
const stats = tlob.stats().find((s) => s.name === 'async.each');
console.log(`iteratee saw ${seen.length} items; windows through each and forEach: ${stats.count}`);
probe.detach();
console.log(`after detach, each is the original again: ${async.each === taken && async.forEach === taken}`);
