/**
 * The cluster YAML of `shoal up` / `shoal down` (fields like Ray's cluster launcher), validated by
 * one zod schema and compiled into a complete {@link ClusterConfig}. Every problem is reported with
 * the file and line it is on: zod's issue paths are looked up in the YAML document's node ranges
 * (an unknown key points at the key, a missing field at the mapping that lacks it, a bad value at
 * the value). See cluster/example-cluster.yaml for a documented example.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { ShoalError, type Resources } from '../../core/index.js';
import { parseBytes } from '../cli-options.js';

/** The cluster YAML has a syntax error, an unknown key, a missing field or a bad value. */
export class ClusterConfigError extends ShoalError {
  override readonly code = 'CLUSTER_CONFIG';
  constructor(readonly file: string, readonly issues: readonly ClusterConfigIssue[]) {
    super(issues.map((i) => `${file}:${i.line}: ${i.message}`).join('\n'));
  }
  override context() {
    return { file: this.file, issues: this.issues };
  }
}

export interface ClusterConfigIssue {
  /** 1-based line of the offending key, value or mapping. */
  line: number;
  /** Dotted path of the key (`provider.head_ip`); empty for the document itself. */
  key: string;
  message: string;
}

const name = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be letters, digits, ".", "_" or "-"');
const host = z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'must be an IP address or host name');
const port = z.number().int().min(0).max(65535);
const count = z.number().int().min(0);
const bytes = z.union([z.number().int().positive(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  try {
    return parseBytes('', v);
  } catch {
    ctx.addIssue({ code: 'custom', message: `must be a size in bytes (e.g. 268435456, 256MB, 2GB), got '${v}'` });
    return z.NEVER;
  }
});
const absolutePath = z.string().refine((p) => isAbsolute(p), 'must be an absolute path');

const providerShape = {
  /** `ssh`: hosts reached over SSH; `local`: every process on this host (no SSH). */
  type: z.enum(['ssh', 'local']),
  head_ip: host,
  worker_ips: z.array(host).default([]),
};
const authShape = { ssh_user: z.string().min(1), ssh_private_key: z.string().min(1), ssh_port: port.default(22) };
const headShape = {
  port: port.default(6380),
  /** CPUs of a worker next to the head; 0 runs none there. */
  cpus: count.default(0),
  object_store_bytes: bytes.optional(),
  memory_bytes: bytes.optional(),
};
const workersShape = {
  cpus: z.number().int().min(1).default(1),
  memory_bytes: bytes.optional(),
  object_store_bytes: bytes.optional(),
  resources: z.record(z.string(), z.number().min(0)).default({}),
};
const topShape = {
  cluster_name: name,
  provider: z.strictObject(providerShape),
  auth: z.strictObject(authShape).optional(),
  head: z.strictObject(headShape).default({ port: 6380, cpus: 0 }),
  workers: z.strictObject(workersShape).default({ cpus: 1, resources: {} }),
  min_workers: count.optional(),
  max_workers: count.optional(),
  idle_timeout_s: z.number().positive().default(60),
  install_dir: absolutePath,
  node_path: z.string().min(1).default('node'),
  session_dir: absolutePath.optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env names must be shell variable names'), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
};
const KNOWN_KEYS: Record<string, string[]> = {
  '': Object.keys(topShape), provider: Object.keys(providerShape), auth: Object.keys(authShape),
  head: Object.keys(headShape), workers: Object.keys(workersShape),
};

const schema = z.strictObject(topShape).superRefine((c, ctx) => {
  if (c.provider.type === 'ssh' && !c.auth) ctx.addIssue({ code: 'custom', path: ['auth'], message: 'missing field \'auth\' (ssh_user, ssh_private_key): provider type ssh needs it' });
  if (c.min_workers !== undefined && c.max_workers === undefined) ctx.addIssue({ code: 'custom', path: ['min_workers'], message: 'min_workers needs max_workers (autoscaling is on only when max_workers is set)' });
  if (c.max_workers !== undefined && c.min_workers !== undefined && c.min_workers > c.max_workers) {
    ctx.addIssue({ code: 'custom', path: ['min_workers'], message: `min_workers (${c.min_workers}) must not exceed max_workers (${c.max_workers})` });
  }
  if (c.max_workers !== undefined && c.provider.worker_ips.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['provider', 'worker_ips'], message: 'autoscaling (max_workers) needs at least one host in provider.worker_ips' });
  }
});

/** The cluster YAML, complete and validated; sizes in bytes, paths absolute. */
export interface ClusterConfig {
  file: string;
  clusterName: string;
  provider: { type: 'ssh' | 'local'; headIp: string; workerIps: string[] };
  auth?: { user: string; privateKey: string; port: number } | undefined;
  head: { port: number; cpus: number; objectStoreBytes: number; memoryBytes: number };
  workers: { cpus: number; memoryBytes: number; objectStoreBytes: number; resources: Resources };
  /** Present when `max_workers` is set: the head launches workers on the worker hosts on demand. */
  autoscale?: { minWorkers: number; maxWorkers: number; idleTimeoutS: number } | undefined;
  installDir: string;
  nodePath: string;
  /** Folder on every host for state, logs and pid files. @default /tmp/shoal-<cluster_name> */
  sessionDir: string;
  env: Record<string, string>;
}

const DEFAULT_OBJECT_STORE_BYTES = 256 * 1024 ** 2;
const DEFAULT_MEMORY_BYTES = 2 * 1024 ** 3;

/** Reads and validates the cluster YAML `file`; throws ClusterConfigError naming file and line. */
export function loadClusterConfig(file: string): ClusterConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ClusterConfigError(file, [{ line: 0, key: '', message: `cannot read the cluster YAML: ${(err as Error).message}` }]);
  }
  return parseClusterConfig(text, file);
}

/** Validates cluster YAML `text` (`file` names it in errors and anchors relative paths). */
export function parseClusterConfig(text: string, file: string): ClusterConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const lineOf = (offset: number | undefined): number => (offset === undefined ? 1 : lines.linePos(offset).line);
  if (doc.errors.length) {
    throw new ClusterConfigError(file, doc.errors.map((e) => ({ line: e.linePos?.[0].line ?? 1, key: '', message: `YAML syntax: ${e.message.split('\n')[0]}` })));
  }
  if (!isMap(doc.contents)) throw new ClusterConfigError(file, [{ line: lineOf(doc.contents?.range?.[0]), key: '', message: 'the cluster YAML must be a mapping of keys (cluster_name, provider, ...)' }]);
  const parsed = schema.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new ClusterConfigError(file, parsed.error.issues.map((i) => describeIssue(doc, i, lineOf)).sort((a, b) => a.line - b.line));
  }
  const c = parsed.data;
  const base = dirname(resolve(file));
  const expand = (p: string): string => (p.startsWith('~/') ? resolve(homedir(), p.slice(2)) : resolve(base, p));
  return {
    file,
    clusterName: c.cluster_name,
    provider: { type: c.provider.type, headIp: c.provider.head_ip, workerIps: c.provider.worker_ips },
    auth: c.auth && { user: c.auth.ssh_user, privateKey: expand(c.auth.ssh_private_key), port: c.auth.ssh_port },
    head: {
      port: c.head.port, cpus: c.head.cpus,
      objectStoreBytes: c.head.object_store_bytes ?? DEFAULT_OBJECT_STORE_BYTES, memoryBytes: c.head.memory_bytes ?? DEFAULT_MEMORY_BYTES,
    },
    workers: {
      cpus: c.workers.cpus, resources: c.workers.resources,
      objectStoreBytes: c.workers.object_store_bytes ?? DEFAULT_OBJECT_STORE_BYTES, memoryBytes: c.workers.memory_bytes ?? DEFAULT_MEMORY_BYTES,
    },
    autoscale: c.max_workers === undefined ? undefined : { minWorkers: c.min_workers ?? 0, maxWorkers: c.max_workers, idleTimeoutS: c.idle_timeout_s },
    installDir: c.install_dir,
    nodePath: c.node_path,
    sessionDir: c.session_dir ?? `/tmp/shoal-${c.cluster_name}`,
    env: c.env,
  };
}

type Path = readonly PropertyKey[];

/** The YAML node at `path` and the key node that leads to it (undefined where the path ends early). */
function nodeAt(doc: Document, path: Path): { node: unknown; key: unknown; depth: number } {
  let node: unknown = doc.contents;
  let key: unknown;
  let depth = 0;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      key = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
      node = node.items[seg];
    } else break;
    depth++;
  }
  return { node, key, depth };
}

const startOf = (n: unknown): number | undefined => (n as { range?: [number, number, number] } | undefined)?.range?.[0];
const where = (path: Path): string => (path.length ? `in '${path.join('.')}'` : 'at the top level');

function describeIssue(doc: Document, issue: z.core.$ZodIssue, lineOf: (offset: number | undefined) => number): ClusterConfigIssue {
  const path = issue.path;
  const dotted = path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const { node } = nodeAt(doc, path);
    const keyNode = isMap(node) ? node.items.find((p) => isScalar(p.key) && issue.keys.includes(String(p.key.value)))?.key : undefined;
    const known = KNOWN_KEYS[path.filter((s) => typeof s !== 'number').map(String).join('.')];
    const names = issue.keys.map((k) => `'${k}'`).join(', ');
    return {
      line: lineOf(startOf(keyNode ?? node)),
      key: [...path.map(String), issue.keys[0]].join('.'),
      message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${names} ${where(path)}${known ? ` (expected one of: ${known.join(', ')})` : ''}`,
    };
  }
  const found = nodeAt(doc, path);
  if (found.depth < path.length) {
    // The path ends at a mapping that lacks the key: point at that mapping's own key.
    const parent = nodeAt(doc, path.slice(0, -1));
    const line = parent.key ? lineOf(startOf(parent.key)) : lineOf(startOf(parent.node));
    const message = issue.code === 'custom' ? issue.message : `missing field '${String(path[path.length - 1])}' ${where(path.slice(0, -1))}`;
    return { line, key: dotted, message };
  }
  const value = isScalar(found.node) && !issue.message.includes('got ') ? ` (got ${JSON.stringify(found.node.value)})` : '';
  const own = issue.message.replace(/^Invalid input: /, '');
  const message = own.includes(String(path[path.length - 1])) ? own : `'${dotted}' ${own}${value}`;
  return { line: lineOf(startOf(found.key ?? found.node)), key: dotted, message };
}
