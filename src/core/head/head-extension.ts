/**
 * The hook through which layers above core add to a head without core importing them (the layer
 * rule: core knows nothing above it). A head started with `extensions: [module, ...]` imports each
 * module in its own process and calls its `mountHead(host)`; the extension serves HTTP routes on
 * the head's HTTP server (beside /metrics) and reads the head through the typed `HeadHost` view.
 * The dashboard (src/dashboard) is the first such extension.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import type { Registry } from 'prom-client';
import { InvalidOptionError } from '../errors.js';
import type { ClusterStatusReply } from '../wire/control.js';
import type { HeadInfo } from './head.js';
import type { HeadState } from './head-state.js';
import type { HistoryKind, JobRecord } from './head-store.js';
import type { TaskSummaryView } from './task-summary.js';

/** Serves one HTTP request; the extension checks auth itself (the head's Bearer check does not run for its routes). */
export type HeadHttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Something that happened on the head (node joined or died, actor restarted, job changed state, ...). */
export interface HeadEvent {
  /** Increasing within a head process. */
  seq: number;
  at: number;
  event: string;
  fields: Record<string, unknown>;
}

/** What the `status` control call returns: the cluster as `shoal status` shows it. */
export type HeadStatus = ClusterStatusReply;

/** Tasks now (by name and state) and finished (by name), slowest runs and last failures. */
export interface HeadTasksView extends TaskSummaryView {
  live: ReturnType<HeadState['liveTasks']>;
}

/** The head as an extension sees it. */
export interface HeadHost {
  readonly info: HeadInfo;
  /** Whether `token` is this cluster's token (constant-time comparison). */
  checkToken(token: string): boolean;
  /**
   * Serves every request whose path is `prefix` or starts with it (longest prefix wins; the head's
   * own /metrics and /api/status come first). Needs the head's HTTP server (`metricsPort` ≥ 0).
   * `name` lists it in HeadInfo.httpMounts (what `shoal status` prints).
   */
  mountHttp(name: string, prefix: string, handler: HeadHttpHandler): void;
  /**
   * Serves `registry`'s metrics on the head's own /metrics (after the head's; names must not clash),
   * read at every scrape — one endpoint for Prometheus to scrape.
   */
  addMetrics(registry: Registry): void;
  status(): HeadStatus;
  tasks(): HeadTasksView;
  objects(limit: number): ReturnType<HeadState['largestObjects']>;
  jobs(): JobRecord[];
  /** A job by id; throws InvalidOptionError for an unknown id. */
  job(id: string): JobRecord;
  jobRunning(id: string): boolean;
  stopJob(id: string): JobRecord;
  /** Kills an actor (no restart); throws InvalidOptionError for an unknown id. */
  killActor(actorId: string): void;
  /** The newest events (at most `limit`), oldest first. */
  events(limit?: number): HeadEvent[];
  /** Calls `listener` for every event from now on; returns the unsubscribe function. */
  onEvent(listener: (e: HeadEvent) => void): () => void;
  /** History records of `kind` the store held when this head started (a previous head's). */
  stored(kind: HistoryKind): Map<string, unknown>;
  /** Keeps a history record in the head store (written behind, like the head's own state). */
  keep(kind: HistoryKind, key: string, value: unknown): void;
  forget(kind: HistoryKind, key: string): void;
}

/** What an extension module exports. */
export interface HeadExtension {
  mountHead(host: HeadHost): void | Promise<void>;
}

/** Imports each extension module (absolute path or package specifier) and mounts it. */
export async function loadHeadExtensions(specs: readonly string[], host: HeadHost): Promise<void> {
  for (const spec of specs) {
    const url = spec.startsWith('/') ? pathToFileURL(spec).href : spec;
    const mod = (await import(url)) as Partial<HeadExtension>;
    if (typeof mod.mountHead !== 'function') {
      throw new InvalidOptionError(`head extension ${spec} does not export a mountHead(host) function`);
    }
    await mod.mountHead(host);
  }
}
