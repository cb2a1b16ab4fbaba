// @budget on class methods (docs/decorators.md). Plain JavaScript has no decorator syntax yet, so
// this applies the decorator the way TypeScript's experimentalDecorators output does; in
// TypeScript write `@budget('5ms')` above the method (both decorator modes are supported).
// Run: node examples/probes-demo/decorators.mjs
import { budget, tlob } from 'tlob';

tlob.reactor((v) => console.log(`violation: ${v.name}`));

class Repository {
  find(id) {
    const end = performance.now() + 8;
    while (performance.now() < end) {
      // busy
    }
    return { id };
  }
  static async connect() {
    await new Promise((resolve) => setTimeout(resolve, 2));
    return new Repository();
  }
}

const decorate = (target, key, decorator) =>
  Object.defineProperty(target, key, decorator(target, key, Object.getOwnPropertyDescriptor(target, key)));
decorate(Repository.prototype, 'find', budget('5ms'));
decorate(Repository, 'connect', budget({ budget: '1s', name: 'repo.connect' }));

const repo = await Repository.connect();
console.log(`find -> ${JSON.stringify(repo.find(7))}`);
console.log(JSON.stringify(tlob.stats().map((s) => [s.name, s.count, s.violations])));
