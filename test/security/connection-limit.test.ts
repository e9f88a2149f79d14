// ConnectionLimit's bookkeeping over real sockets: connections counted as they open and
// close (in any order), the one waiting longest shed for a newcomer, a busy one kept, and
// none refused while one can be shed.
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionLimit } from '../../src/security/connection-limit.js';

let server: Server;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function open(port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  sockets.push(s);
  await once(s, 'connect');
  return s;
}

/** Waits until the server has seen what the client did (the loop turns until `ok`). */
async function until(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((r) => setImmediate(r));
}

describe('ConnectionLimit', () => {
  it('counts connections in and out in any order, sheds the longest waiting, keeps a busy one', async () => {
    let t = 0;
    const answers: Array<() => void> = [];
    server = createServer((_req, res) => answers.push(() => res.end('ok')));
    const limit = new ConnectionLimit(
      server,
      3,
      () => {},
      () => t,
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;

    const a = await open(port);
    t = 1;
    const b = await open(port);
    t = 2;
    const c = await open(port);
    await until(() => limit.stats.open === 3);
    // a, the oldest, sends a whole request and waits for its answer: busy, not to be shed.
    a.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    await until(() => answers.length === 1);
    // The middle one leaves first: the last takes its place.
    b.destroy();
    await until(() => limit.stats.open === 2);
    t = 3;
    await open(port);
    await until(() => limit.stats.open === 3);
    // Full: a newcomer sheds the idle one waiting longest (c, since 2), not the busy a.
    t = 4;
    const e = await open(port);
    await once(c, 'close');
    expect(a.destroyed).toBe(false);
    expect(limit.stats).toEqual({ open: 3, shed: 1, refused: 0 });
    // A shed connection's own close does not count it out twice.
    e.destroy();
    await until(() => limit.stats.open === 2);
    for (const s of sockets) s.destroy();
    await until(() => limit.stats.open === 0);
    expect(limit.stats).toEqual({ open: 0, shed: 1, refused: 0 });
  });
});
