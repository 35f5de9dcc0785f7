/**
 * Prometheus metrics of the head, served at /metrics (token-protected) on the head's HTTP port.
 * Gauges are read from the head state at scrape time.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { HeadState } from './head-state.js';

export function createMetrics(state: HeadState): Registry {
  const registry = new Registry();
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name, help, registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });

  counter('shoal_tasks_submitted_total', 'Tasks and actor calls submitted.', () => state.counters.tasksSubmitted);
  counter('shoal_tasks_finished_total', 'Tasks and actor calls that finished successfully.', () => state.counters.tasksFinished);
  counter('shoal_tasks_failed_total', 'Tasks and actor calls that failed.', () => state.counters.tasksFailed);
  counter('shoal_tasks_retried_total', 'Task retries after system failures.', () => state.counters.tasksRetried);
  counter('shoal_objects_reconstructed_total', 'Objects recomputed from lineage after their node was lost.', () => state.counters.objectsReconstructed);
  gauge('shoal_tasks_running', 'Tasks dispatched to workers and not finished.', () => state.status().tasks.running);
  gauge('shoal_tasks_pending', 'Tasks waiting for arguments or resources.', () => state.status().tasks.pending);
  gauge('shoal_nodes_alive', 'Worker nodes in the cluster.', () => state.nodes.size);
  gauge('shoal_actors_alive', 'Live actors.', () => [...state.actors.values()].filter((a) => a.state === 'alive').length);
  gauge('shoal_object_store_bytes', 'Bytes held in worker object stores (memory).', () =>
    [...state.nodes.values()].reduce((s, n) => s + (n.usage?.objectStoreBytes ?? 0), 0));
  gauge('shoal_object_store_spilled_bytes', 'Bytes spilled to disk by worker object stores.', () =>
    [...state.nodes.values()].reduce((s, n) => s + (n.usage?.spilledBytes ?? 0), 0));
  gauge('shoal_head_inline_object_bytes', 'Bytes of small objects held inline by the head.', () => state.status().objects.inlineBytes);
  return registry;
}
