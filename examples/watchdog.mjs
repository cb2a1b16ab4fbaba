// The watchdog (docs/watchdog.md): a budget broken while the event loop is blocked is reported at
// once, from another thread, with the stack of the code that holds the thread.
// Run: node examples/watchdog.mjs
import { tlob } from 'tlob';

// On by default under `node --import tlob/register`; in code, one call turns it on.
tlob.watchdog({ grace: '5ms' });

// The watchdog thread starts in the turn after the first window that has a budget; wait until it runs.
tlob.run('warm-up', { budget: '1s' }, () => 0);
while (!tlob.watchdog().running) await new Promise((resolve) => setTimeout(resolve, 5));

tlob.subscribe('error', (v) => {
  const frame = v.stack
    ?.split('\n')
    .map((line) => line.trim())
    .find((line) => line.includes('file:')); // the first frame of the program's own files
  console.log(`tlob:error ${v.name} detectedBy=${v.detectedBy} state=${v.state} first own frame: ${frame}`);
});

function parseHugePayload(ms) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // a JSON.parse of 200 MB, a regex gone wrong, a sync fs call on a slow disk...
  }
}

// The violation line and the stack reach stderr ~50 ms in, while the call still holds the thread;
// the record on tlob:error follows once the thread is free again, exactly once.
tlob.run('handler', { budget: '50ms' }, () => parseHugePayload(300));
console.log('the call returned');
