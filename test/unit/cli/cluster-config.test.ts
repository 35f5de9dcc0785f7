/**
 * The cluster YAML of `shoal up`: the shipped example loads; every bad input is reported with the
 * file, the line and the key.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ClusterConfigError, loadClusterConfig, parseClusterConfig } from '../../../src/cli/launcher/cluster-config.js';

const REPO = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

const GOOD = `cluster_name: demo
provider:
  type: ssh
  head_ip: 10.0.0.10
  worker_ips: [10.0.0.11, 10.0.0.12]
auth:
  ssh_user: shoal
  ssh_private_key: keys/id
install_dir: /opt/shoal
`;

function issues(text: string): string[] {
  try {
    parseClusterConfig(text, 'c.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ClusterConfigError);
    return (err as Error).message.split('\n');
  }
  throw new Error('expected a ClusterConfigError');
}

describe('cluster YAML', () => {
  it('the shipped example loads and compiles to complete options', () => {
    const c = loadClusterConfig(join(REPO, 'cluster', 'example-cluster.yaml'));
    expect(c.clusterName).toBe('demo');
    expect(c.provider).toEqual({ type: 'ssh', headIp: '10.0.0.10', workerIps: ['10.0.0.11', '10.0.0.12'] });
    expect(c.workers).toEqual({ cpus: 4, objectStoreBytes: 1024 ** 3, memoryBytes: 8 * 1024 ** 3, resources: {} });
    expect(c.autoscale).toBeUndefined();
    expect(c.sessionDir).toBe('/var/tmp/shoal-demo');
  });

  it('fills defaults; resolves the key relative to the file; max_workers turns autoscaling on', () => {
    const c = parseClusterConfig(`${GOOD}max_workers: 3\n`, '/etc/shoal/c.yaml');
    expect(c.auth).toEqual({ user: 'shoal', privateKey: '/etc/shoal/keys/id', port: 22 });
    expect(c.head).toEqual({ port: 6380, cpus: 0, objectStoreBytes: 256 * 1024 ** 2, memoryBytes: 2 * 1024 ** 3 });
    expect(c.autoscale).toEqual({ minWorkers: 0, maxWorkers: 3, idleTimeoutS: 60 });
    expect(c.sessionDir).toBe('/tmp/shoal-demo');
    expect(c.nodePath).toBe('node');
  });

  it('an unknown key names its line and the keys that are allowed there', () => {
    expect(issues(`${GOOD}head:\n  port: 7000\n  cpu: 2\n`)).toEqual([
      "c.yaml:12: unknown key 'cpu' in 'head' (expected one of: port, cpus, object_store_bytes, memory_bytes)",
    ]);
    expect(issues(GOOD.replace('install_dir', 'wokers:\n  cpus: 1\ninstall_dir'))[0]).toMatch(/^c\.yaml:9: unknown key 'wokers' at the top level \(expected one of: cluster_name, provider, /);
  });

  it('a missing field names the line of the mapping that lacks it', () => {
    expect(issues(GOOD.replace('  head_ip: 10.0.0.10\n', ''))).toEqual(["c.yaml:2: missing field 'head_ip' in 'provider'"]);
    expect(issues(GOOD.replace('install_dir: /opt/shoal\n', ''))).toEqual(["c.yaml:1: missing field 'install_dir' at the top level"]);
    expect(issues(GOOD.replace(/auth:\n.*\n.*\n/, ''))).toEqual(["c.yaml:1: missing field 'auth' (ssh_user, ssh_private_key): provider type ssh needs it"]);
  });

  it('a bad value names its line, the key and the value', () => {
    expect(issues(`${GOOD}workers:\n  object_store_bytes: 12XB\n`)).toEqual([
      "c.yaml:11: 'workers.object_store_bytes' must be a size in bytes (e.g. 268435456, 256MB, 2GB), got '12XB'",
    ]);
    expect(issues(GOOD.replace('type: ssh', 'type: aws'))[0]).toMatch(/^c\.yaml:3: 'provider\.type' .*"ssh".*"local".* \(got "aws"\)$/);
    expect(issues(GOOD.replace('/opt/shoal', 'opt/shoal'))).toEqual(["c.yaml:9: 'install_dir' must be an absolute path (got \"opt/shoal\")"]);
    expect(issues(`${GOOD}head:\n  port: 70000\n`)[0]).toMatch(/^c\.yaml:11: 'head\.port' .*65535.* \(got 70000\)$/);
    expect(issues(`${GOOD}min_workers: 3\nmax_workers: 1\n`)).toEqual(['c.yaml:10: min_workers (3) must not exceed max_workers (1)']);
  });

  it('several problems are all reported, in line order', () => {
    expect(issues(`cluster_name: a b\nprovider:\n  type: ssh\n  head_ip: h\n  extra: 1\ninstall_dir: /x\n`)).toEqual([
      "c.yaml:1: 'cluster_name' must be letters, digits, \".\", \"_\" or \"-\" (got \"a b\")",
      "c.yaml:1: missing field 'auth' (ssh_user, ssh_private_key): provider type ssh needs it",
      "c.yaml:5: unknown key 'extra' in 'provider' (expected one of: type, head_ip, worker_ips)",
    ]);
  });

  it('a YAML syntax error, a duplicate key and a document that is not a mapping name their lines', () => {
    expect(issues('cluster_name: a\nprovider: [1, 2\n')[0]).toMatch(/^c\.yaml:\d+: YAML syntax: /);
    expect(issues(`${GOOD}cluster_name: again\n`)[0]).toMatch(/^c\.yaml:10: YAML syntax: Map keys must be unique/);
    expect(issues('- a\n- b\n')).toEqual(['c.yaml:1: the cluster YAML must be a mapping of keys (cluster_name, provider, ...)']);
  });

  it('a file that cannot be read is a ClusterConfigError naming it', () => {
    expect(() => loadClusterConfig('/nonexistent/cluster.yaml')).toThrow(/\/nonexistent\/cluster\.yaml:0: cannot read the cluster YAML: ENOENT/);
  });
});
