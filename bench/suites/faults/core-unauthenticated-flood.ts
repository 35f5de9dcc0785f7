/**
 * Memory before authentication (issue 13): four 512 MiB PutBundle calls without the token, sent by
 * a raw HTTP/2 client from one reused 1 MiB buffer, at a head of its own. Expected: each refused
 * (UNAUTHENTICATED or RESOURCE_EXHAUSTED) and the head's peak RSS (VmHWM) grows < 256 MiB. A call
 * not refused, or a head that grew past that, is a wrong result.
 */
import { readFileSync } from 'node:fs';
import { connect, constants } from 'node:http2';
import { join } from 'node:path';
import { startLocalCluster } from 'shoal';
import type { Fault } from '../../lib/fault.js';

const MiB = 2 ** 20;

const peakRss = (pid: number): number => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

function flood(address: string, declared: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const session = connect(`http://${address}`);
    session.on('error', () => undefined);
    const req = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST', [constants.HTTP2_HEADER_PATH]: '/shoal.v1.Head/PutBundle',
      [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc', te: 'trailers',
    });
    let status: number | undefined;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      session.destroy();
      resolve(status);
    };
    const pick = (h: Record<string, unknown>): void => {
      if (h['grpc-status'] === undefined) return;
      status = Number(h['grpc-status']);
      finish();
    };
    req.on('response', pick);
    req.on('trailers', pick);
    req.on('error', finish);
    req.on('close', finish);
    req.resume();
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(declared, 1);
    req.write(prefix);
    const chunk = Buffer.alloc(MiB);
    let sent = 0;
    const pump = (): void => {
      while (!done && !req.destroyed && sent < declared) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!done && !req.destroyed) req.end();
    };
    pump();
  });
}

export const fault: Fault = {
  name: 'four unauthenticated 512 MiB PutBundle calls',
  area: 'core',
  async run(ctx) {
    const cluster = await startLocalCluster({ dir: join(ctx.dir, 'cluster'), numWorkers: 0 });
    try {
      const pid = cluster.processes[0]!.child.pid!;
      const before = peakRss(pid);
      const statuses = await Promise.all([1, 2, 3, 4].map(() => flood(cluster.head.address, 512 * MiB)));
      const grewMb = (peakRss(pid) - before) / MiB;
      const refused = statuses.filter((s) => s === 16 || s === 8).length;
      return {
        ran: 'raw HTTP/2: 4 × PutBundle declaring 512 MiB, no token, streamed from a 1 MiB buffer',
        expected: '4 refused (UNAUTHENTICATED/RESOURCE_EXHAUSTED), head peak RSS + < 256 MiB',
        happened: `${refused} refused (statuses ${statuses.join(', ')}), head peak RSS +${grewMb.toFixed(0)} MiB`,
        wrongResults: 4 - refused + (grewMb >= 256 ? 1 : 0),
        lostWrites: 0,
        leakedFiles: 0,
        recoverSeconds: 0,
      };
    } finally {
      await cluster.stop();
    }
  },
};
