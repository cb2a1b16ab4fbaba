import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tlob, type WindowResult } from '../../src/index.js';
import { ms, spin } from '../helpers.js';

beforeAll(() => {
  tlob.reactor('nop');
});
afterAll(() => {
  tlob.reactor('log');
});

const autocannon = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

describe('the split under HTTP load', () => {
  it('a handler with nothing to sleep on (spin 1 ms, setImmediate, spin 1 ms) reports its queueing as waiting, not sleeping', async () => {
    const results: WindowResult[] = [];
    const server = createServer((_req, res) => {
      tlob.run('handler', { budget: '10s', onStop: (r) => results.push(r) }, async () => {
        spin(1);
        await new Promise((resolve) => setImmediate(resolve));
        spin(1);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    try {
      // autocannon in its own process, so that the load generator does not share the server's thread
      await promisify(execFile)(process.execPath, [
        autocannon,
        '--connections',
        '20',
        '--duration',
        '2',
        '--json',
        `http://127.0.0.1:${port}/`,
      ]);
    } finally {
      server.close();
    }
    expect(results.length).toBeGreaterThan(100);
    const sleeping = median(results.map((r) => ms(r.sleepingNs)));
    const waiting = median(results.map((r) => ms(r.waitingNs)));
    expect(sleeping).toBeLessThanOrEqual(0.5);
    expect(waiting).toBeGreaterThanOrEqual(1); // 20 requests in flight on one thread: each yield queues behind others
    expect(waiting).toBeGreaterThanOrEqual(10 * sleeping);
  }, 60_000);
});
