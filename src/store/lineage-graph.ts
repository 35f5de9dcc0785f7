/**
 * A lineage (lineage.ts) as a graph for drawing: nodes (datasets, feature pipelines, runs, the model
 * version, its deployments) and edges in the direction data flows — dataset → run, parent run →
 * child run, run → model version → deployment. The same chain `shoal lineage` prints as a tree.
 */
import type { Lineage } from './lineage.js';

export type LineageNodeKind = 'dataset' | 'feature-pipeline' | 'run' | 'model-version' | 'deployment';

export interface LineageNode {
  /** `<kind>:<key>`, unique in the graph. */
  id: string;
  kind: LineageNodeKind;
  label: string;
  /** The record's own fields worth showing (ids, status, times, row counts). */
  detail: Record<string, unknown>;
}

export interface LineageEdge {
  from: string;
  to: string;
  /** `input:<role>`, `parent`, `produced`, `deployed`. */
  kind: string;
}

export interface LineageGraph {
  nodes: LineageNode[];
  edges: LineageEdge[];
}

export function lineageGraph(l: Lineage): LineageGraph {
  const nodes = new Map<string, LineageNode>();
  const edges: LineageEdge[] = [];
  const add = (n: LineageNode): string => {
    if (!nodes.has(n.id)) nodes.set(n.id, n);
    return n.id;
  };
  const runs = [l.run, ...l.ancestors];
  for (const r of runs) {
    add({
      id: `run:${r.id}`, kind: 'run', label: `${r.name} (${r.experimentName})`,
      detail: { runId: r.id, experiment: r.experimentName, status: r.status, startTime: r.startTime, endTime: r.endTime, params: r.params, codeHash: r.codeHash, gitCommit: r.gitCommit },
    });
  }
  // Ancestors are nearest first: each one is the parent of the run before it.
  runs.forEach((r, i) => {
    const parent = runs[i + 1];
    if (parent) edges.push({ from: `run:${parent.id}`, to: `run:${r.id}`, kind: 'parent' });
  });
  for (const d of l.datasets) {
    const id = add({
      id: `dataset:${d.id}`, kind: 'dataset', label: d.id,
      detail: { datasetId: d.id, name: d.name, kind: d.kind, rowCount: d.rowCount, files: d.files.length, source: d.source },
    });
    edges.push({ from: id, to: `run:${d.runId}`, kind: `input:${d.role}` });
  }
  for (const f of l.featureInputs) {
    const id = add({ id: `feature-pipeline:${f.ref}`, kind: 'feature-pipeline', label: f.ref, detail: { hash: f.ref } });
    edges.push({ from: id, to: `run:${f.runId}`, kind: `input:${f.role}` });
  }
  const v = l.modelVersion;
  if (v) {
    const id = add({
      id: `model-version:${v.name}/${v.version}`, kind: 'model-version', label: `${v.name}/${v.version}${v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}`,
      detail: { name: v.name, version: v.version, aliases: v.aliases, source: v.source, createdAt: v.createdAt },
    });
    edges.push({ from: `run:${l.run.id}`, to: id, kind: 'produced' });
    l.deployments.forEach((dep, i) => {
      const did = add({ id: `deployment:${i}:${dep.target}`, kind: 'deployment', label: dep.target, detail: { ...dep } });
      edges.push({ from: id, to: did, kind: 'deployed' });
    });
  }
  return { nodes: [...nodes.values()], edges };
}
