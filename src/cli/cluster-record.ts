/**
 * What `shoal start` started on this host, kept in `$SHOAL_HOME/cluster.json` so that `shoal stop`
 * can stop it and `init({ address: 'auto' })`, `shoal status`, ... can find the cluster.
 * `address`, `tokenFile`, `dir` and `pids` are the fields other code reads; `processes` adds what
 * the CLI needs to stop them safely (the role tells a recorded pid from a reused one).
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidOptionError, makePrivateDir, shoalHome } from '../core/index.js';

export type ProcessRole = 'head' | 'worker';

export interface RecordedProcess {
  pid: number;
  role: ProcessRole;
  logFile: string;
  startedAt: number;
}

export interface ClusterRecord {
  /** `HOST:PORT` to connect to. */
  address: string;
  /** File holding the cluster token (absent when a joined worker got it from SHOAL_TOKEN). */
  tokenFile?: string | undefined;
  /** Folder of the head's (or joined workers') state and logs. */
  dir: string;
  /** Interface the head was bound to, and its `--store` (to start a crashed head again as it was). */
  headHost?: string | undefined;
  store?: string | undefined;
  pids: number[];
  processes: RecordedProcess[];
}

export const clusterRecordPath = (): string => join(shoalHome(), 'cluster.json');

export function readClusterRecord(): ClusterRecord | undefined {
  const file = clusterRecordPath();
  if (!existsSync(file)) return undefined;
  let raw: Partial<ClusterRecord>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<ClusterRecord>;
  } catch (err) {
    throw new InvalidOptionError(`${file} is not valid JSON (${(err as Error).message}); delete it, after stopping any shoal processes it listed`);
  }
  if (typeof raw.address !== 'string' || !Array.isArray(raw.pids)) {
    throw new InvalidOptionError(`${file} is not a shoal cluster record (it needs 'address' and 'pids'); delete it`);
  }
  const processes = Array.isArray(raw.processes)
    ? raw.processes
    : raw.pids.map((pid): RecordedProcess => ({ pid, role: 'worker', logFile: '', startedAt: 0 }));
  return { address: raw.address, tokenFile: raw.tokenFile, dir: raw.dir ?? '', headHost: raw.headHost, store: raw.store, pids: raw.pids, processes };
}

export function writeClusterRecord(record: Omit<ClusterRecord, 'pids'>): ClusterRecord {
  const full: ClusterRecord = { ...record, pids: record.processes.map((p) => p.pid) };
  const file = clusterRecordPath();
  makePrivateDir(shoalHome());
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(full, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return full;
}

export function removeClusterRecord(): void {
  rmSync(clusterRecordPath(), { force: true });
}
