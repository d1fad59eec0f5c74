/**
 * A service that is down when the process starts and comes up later on the same address: a
 * port nobody listens on (connections are refused) until `forward` starts relaying it to a
 * running fake. The fakes listen on random ports, so this is how a test brings one up "late".
 */
import net from 'node:net';
import { freePort } from '../../src/db/processes.ts';
import { onCleanup } from '../support/mongo.ts';

export interface LateServer {
  /** The port: refused until `forward`. */
  port: number;
  /** From now on, relays every connection on `port` to `target` (e.g. a fake's origin). */
  forward(target: string): Promise<void>;
}

/** A free port with nothing on it yet; the relay (if started) closes when the test file ends. */
export async function lateServer(): Promise<LateServer> {
  const port = await freePort();
  return {
    port,
    async forward(target) {
      const { hostname, port: targetPort } = new URL(target);
      const sockets = new Set<net.Socket>();
      const server = net.createServer((inbound) => {
        const outbound = net.connect(Number(targetPort), hostname);
        for (const s of [inbound, outbound]) {
          sockets.add(s);
          s.on('error', () => {}).on('close', () => sockets.delete(s));
        }
        inbound.pipe(outbound).pipe(inbound);
      });
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
      onCleanup(async () => {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      });
    },
  };
}
