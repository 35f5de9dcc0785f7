/**
 * The Trainer's checkpoint folders (each rental run left three 25 MB /tmp/shoal-trainer-* folders): one
 * fit leaves none, and a folder of a killed driver is swept by the next fit.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { Trainer } from 'shoal/train';
import { buildLinearBench } from '../../fixtures/fault-tasks.js';
import type { Fault } from '../../lib/fault.js';

const ours = async (): Promise<string[]> => (await readdir(tmpdir())).filter((n) => n.startsWith(`shoal-trainer-${process.pid}-`) || n === 'shoal-trainer-4194305-faultX');

export const fault: Fault = {
  name: 'Trainer checkpoint folders after a fit and after a killed driver',
  area: 'rental',
  async run() {
    const dead = join(tmpdir(), 'shoal-trainer-4194305-faultX');
    await mkdir(dead, { recursive: true });
    await writeFile(join(dead, 'latest.json'), '{}');
    const n = 64;
    const x = Float32Array.from({ length: n }, (_, i) => i / n);
    const dataset = tableFromArrays({ x, y: x.map((v) => 2 * v + 1) });
    const started = performance.now();
    await new Trainer({ model: buildLinearBench, dataset, featureColumns: ['x'], labelColumns: ['y'], numWorkers: 1, epochs: 1, batchSize: 16 }).fit();
    const seconds = (performance.now() - started) / 1000;
    const left = await ours();
    return {
      ran: 'a folder of a dead driver in /tmp, then one Trainer.fit() without checkpointDir',
      expected: 'no shoal-trainer folder of this driver or the dead one left',
      happened: `${left.length} left (${left.join(', ') || 'none'}); the fit took ${seconds.toFixed(1)} s`,
      wrongResults: 0,
      lostWrites: 0,
      leakedFiles: left.length,
      recoverSeconds: 0, // the sweep is part of starting the fit; nothing waits on it
    };
  },
};
