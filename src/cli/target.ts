/**
 * Which cluster a command talks to. Address: `--address`, else SHOAL_ADDRESS, else the cluster
 * `shoal start` recorded in $SHOAL_HOME/cluster.json ('auto' also means that record). Token:
 * `--token-file`, else SHOAL_TOKEN, else SHOAL_TOKEN_FILE, else the record's token file (only for
 * the recorded address).
 */
import { readFileSync } from 'node:fs';
import { InvalidOptionError } from '../core/index.js';
import { parseAddress } from './cli-options.js';
import { clusterRecordPath, readClusterRecord } from './cluster-record.js';
import { MissingTokenError, NoClusterError } from './errors.js';
import type { HeadTarget } from '../core/index.js';
import { pidAlive } from '../core/index.js';

export interface TargetFlags {
  address?: string | undefined;
  tokenFile?: string | undefined;
}

export function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): HeadTarget {
  const record = readClusterRecord();
  let address = flags.address ?? env.SHOAL_ADDRESS;
  const fromFlag = flags.address !== undefined ? '--address' : 'SHOAL_ADDRESS';
  if (address === undefined || address === 'auto') {
    if (!record) {
      throw new NoClusterError(
        `no shoal cluster to talk to: pass --address HOST:PORT, set SHOAL_ADDRESS, or start one on this host ` +
          `with \`shoal start --head\` (there is no ${clusterRecordPath()})`,
      );
    }
    const head = record.processes.find((p) => p.role === 'head');
    if (head && !pidAlive(head.pid)) {
      throw new NoClusterError(
        `the cluster recorded in ${clusterRecordPath()} (head pid ${head.pid} at ${record.address}) is no longer running; ` +
          'run `shoal stop` to clean up, then `shoal start --head`',
      );
    }
    address = record.address;
  } else {
    address = parseAddress(fromFlag, address);
  }
  const { token, tokenSource } = resolveToken(flags, env, record?.address === address ? record.tokenFile : undefined, address);
  return { address, token, tokenSource };
}

export function resolveToken(
  flags: { tokenFile?: string | undefined },
  env: NodeJS.ProcessEnv,
  recordedTokenFile: string | undefined,
  address: string,
): { token: string; tokenSource: string; tokenFile?: string | undefined } {
  if (flags.tokenFile !== undefined) return { token: readToken(flags.tokenFile, '--token-file'), tokenSource: `--token-file ${flags.tokenFile}`, tokenFile: flags.tokenFile };
  if (env.SHOAL_TOKEN) return { token: env.SHOAL_TOKEN.trim(), tokenSource: 'SHOAL_TOKEN' };
  if (env.SHOAL_TOKEN_FILE) {
    return { token: readToken(env.SHOAL_TOKEN_FILE, 'SHOAL_TOKEN_FILE'), tokenSource: `SHOAL_TOKEN_FILE=${env.SHOAL_TOKEN_FILE}`, tokenFile: env.SHOAL_TOKEN_FILE };
  }
  if (recordedTokenFile) {
    return { token: readToken(recordedTokenFile, `the token file in ${clusterRecordPath()}`), tokenSource: recordedTokenFile, tokenFile: recordedTokenFile };
  }
  throw new MissingTokenError(address);
}

function readToken(file: string, what: string): string {
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new InvalidOptionError(`${what}: cannot read the token file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!token) throw new InvalidOptionError(`${what}: the token file ${file} is empty`);
  return token;
}
