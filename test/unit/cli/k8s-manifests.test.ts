/**
 * The Kubernetes manifests in cluster/k8s are not run here (no cluster); this checks that they parse
 * as YAML and hang together: the worker joins through the head's Service, both read the token Secret.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const DIR = resolve(fileURLToPath(new URL('../../../cluster/k8s', import.meta.url)));

type Obj = { kind: string; metadata: { name: string; namespace?: string }; spec?: any; stringData?: Record<string, string> };

function load(): Obj[] {
  const out: Obj[] = [];
  for (const f of readdirSync(DIR).filter((n) => n.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(DIR, f), 'utf8'))) {
      expect(doc.errors, `${f}: ${doc.errors.map((e) => e.message).join('; ')}`).toEqual([]);
      const o = doc.toJS() as Obj;
      expect(o.kind, `${f} has a kind`).toBeTypeOf('string');
      out.push(o);
    }
  }
  return out;
}

it('the manifests parse; the worker Deployment joins through the head Service with the token Secret', () => {
  const objs = load();
  const find = (kind: string, name: string): Obj => {
    const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
    expect(o, `${kind} ${name}`).toBeDefined();
    return o!;
  };
  const secret = find('Secret', 'shoal-token');
  expect(Object.keys(secret.stringData ?? {})).toEqual(['token']);
  const head = find('Deployment', 'shoal-head');
  const service = find('Service', 'shoal-head');
  const workers = find('Deployment', 'shoal-worker');
  for (const o of objs.filter((x) => x.kind !== 'Namespace')) expect(o.metadata.namespace).toBe('shoal');

  // The Service selects the head pods and exposes the port the head listens on.
  expect(service.spec.selector).toEqual(head.spec.template.metadata.labels);
  const headArgs: string[] = head.spec.template.spec.containers[0].args;
  const headPort = headArgs[headArgs.indexOf('--port') + 1];
  expect(service.spec.ports[0].port).toBe(Number(headPort));
  // The head reads the Secret as <dir>/token.
  const dir = headArgs[headArgs.indexOf('--dir') + 1];
  const mount = head.spec.template.spec.containers[0].volumeMounts.find((m: { mountPath: string }) => m.mountPath === `${dir}/token`);
  const vol = head.spec.template.spec.volumes.find((v: { name: string }) => v.name === mount.name);
  expect(vol.secret.secretName).toBe('shoal-token');

  // Workers join the Service's DNS name and take the token from the same Secret.
  const wc = workers.spec.template.spec.containers[0];
  expect(wc.args[wc.args.indexOf('--address') + 1]).toBe(`${service.metadata.name}.shoal.svc:${service.spec.ports[0].port}`);
  const tokenEnv = wc.env.find((e: { name: string }) => e.name === 'SHOAL_TOKEN');
  expect(tokenEnv.valueFrom.secretKeyRef).toEqual({ name: 'shoal-token', key: 'token' });
  expect(workers.spec.selector.matchLabels).toEqual(workers.spec.template.metadata.labels);
});
