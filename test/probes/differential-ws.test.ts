import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { attach, type Probe, tlob } from '../../src/index.js';

const require = createRequire(import.meta.url);
const ws = require('ws');

/** The classes whose prototype methods are attached, and each method's original. */
const classes: Array<[string, { prototype: Record<string, unknown> }]> = [
  ['WebSocket', ws.WebSocket],
  ['WebSocketServer', ws.WebSocketServer],
  ['Sender', ws.Sender],
  ['Receiver', ws.Receiver],
];
const methods = classes.flatMap(([label, cls]) =>
  Object.getOwnPropertyNames(cls.prototype)
    .filter((key) => key !== 'constructor')
    .filter((key) => typeof Reflect.getOwnPropertyDescriptor(cls.prototype, key)?.value === 'function')
    .map((key) => ({ label, cls, key, original: cls.prototype[key] as Function })),
);

/**
 * A client and a server on 127.0.0.1: text, binary, a ping, an echo of each message, a close
 * with a code and reason. Returns what both sides saw, in order.
 */
async function exchange(): Promise<string[]> {
  const transcript: string[] = [];
  const server = new ws.WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  server.on('connection', (socket: any) => {
    socket.on('message', (data: Buffer, binary: boolean) => {
      transcript.push(`server got ${binary ? 'binary' : 'text'} ${data.toString('hex')}`);
      socket.send(data, { binary });
    });
    socket.on('ping', (data: Buffer) => transcript.push(`server ping ${data.toString()}`));
    socket.on('close', (code: number, reason: Buffer) => transcript.push(`server close ${code} ${reason}`));
  });
  const { port } = server.address() as AddressInfo;
  const client = new ws.WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise((resolve, reject) => {
    client.once('open', resolve);
    client.once('error', reject);
  });
  transcript.push(
    `client open ${client.readyState} ${client.protocol === '' ? 'no-protocol' : client.protocol}`,
  );
  const replies: string[] = [];
  const gotAll = new Promise<void>((resolve) => {
    client.on('message', (data: Buffer, binary: boolean) => {
      replies.push(`client got ${binary ? 'binary' : 'text'} ${data.toString('hex')}`);
      if (replies.length === 3) resolve();
    });
  });
  client.on('pong', (data: Buffer) => transcript.push(`client pong ${data.toString()}`));
  client.send('hello');
  client.send(Buffer.from([1, 2, 3]));
  client.ping('p1');
  client.send(JSON.stringify({ n: 42 }));
  await gotAll;
  transcript.push(...replies);
  const closed = new Promise<void>((resolve) => {
    client.on('close', (code: number, reason: Buffer) => {
      transcript.push(`client close ${code} ${reason}`);
      resolve();
    });
  });
  client.close(4000, 'bye');
  await closed;
  await new Promise((resolve) => server.close(resolve));
  // the server's own close event may come after the client's: compare as a set of lines per side
  return transcript.sort();
}

describe('differential: ws client and server on 127.0.0.1 with the classes methods attached', () => {
  let plain: string[] = [];

  afterAll(() => {
    for (const { cls, key, original } of methods) cls.prototype[key] = original;
  });

  it('has methods to attach, and a plain run to compare with', async () => {
    expect(methods.length).toBeGreaterThan(30);
    plain = await exchange();
    expect(plain).toContain('server close 4000 bye');
  });

  it('wrapped by tlob.attach: the same transcript; each method call is a window', async () => {
    tlob.reactor('nop');
    const probes: Probe<any>[] = methods.map(({ label, cls, key }) =>
      tlob.attach(cls.prototype, key, { budget: '60s', name: `ws.${label}.${key}` }),
    );
    try {
      tlob.resetStats();
      expect(await exchange()).toEqual(plain);
      const counts = Object.fromEntries(tlob.stats().map((s) => [s.name, s.count]));
      expect(counts['ws.WebSocket.send']).toBe(6); // three by the client, three echoes
      expect(counts['ws.WebSocket.ping']).toBe(1);
      expect(counts['ws.WebSocketServer.handleUpgrade']).toBe(1);
    } finally {
      for (const probe of probes) probe.detach();
      tlob.reactor('log');
    }
    for (const { cls, key, original } of methods) expect(cls.prototype[key]).toBe(original);
  });

  it('wrapped by attach: the same transcript; ret sees every call end', async () => {
    const ends = new Map<string, number>();
    const probes = methods.map(({ label, key }, i) =>
      attach(methods[i]?.cls.prototype as object, key, {
        ret: () => ends.set(`${label}.${key}`, (ends.get(`${label}.${key}`) ?? 0) + 1),
      }),
    );
    try {
      expect(await exchange()).toEqual(plain);
      expect(ends.get('WebSocket.send')).toBe(6);
      expect(ends.get('Sender.send')).toBeGreaterThanOrEqual(6);
    } finally {
      for (const probe of probes) probe.detach();
    }
    for (const { cls, key, original } of methods) expect(cls.prototype[key]).toBe(original);
  });

  it('the aliases of the module exports keep their identity when attached by module specifier', () => {
    const handle = ws.WebSocketServer.prototype.handleUpgrade;
    const probe = tlob.attach('ws', 'WebSocketServer.prototype.handleUpgrade', { budget: '60s' });
    try {
      expect(ws.Server).toBe(ws.WebSocketServer);
      expect(ws.WebSocket).toBe(ws);
      expect(ws.WebSocketServer.prototype.handleUpgrade).not.toBe(handle);
    } finally {
      probe.detach();
    }
    expect(ws.WebSocketServer.prototype.handleUpgrade).toBe(handle);
  });
});
