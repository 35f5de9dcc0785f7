/**
 * The serve controller: owns the deployments — starts replicas (actors), warms them with a health
 * check before they take traffic, hot-swaps versions (new replicas warmed, traffic shifted, old ones
 * drained then stopped), runs canary / shadow rollouts and rollbacks, replaces dead replicas and
 * autoscales on ongoing requests per replica. It runs in the process that serves (the head's host).
 */
import { randomBytes } from 'node:crypto';
import { get, kill, type ObjectRef } from '../core/index.js';
import { DIRECT_METHOD, DirectChannel, type DirectAddress } from './direct-channel.js';
import { BoundDeployment } from './deployment.js';
import { DeploymentHandle, HANDLE_UPDATE_METHOD } from './deployment-handle.js';
import { drainAndStop, DeploymentState, VersionState } from './deployment-state.js';
import { DeploymentNotFoundError, HealthCheckError, InvalidOptionError } from './errors.js';
import { serveLog } from './log.js';
import { ReplicaMux } from './replica-mux.js';
import { LOAD_METHOD } from './replica-load.js';
import type { Replica } from './replica-router.js';

export interface AutoscaleDecision {
  timeMs: number;
  deployment: string;
  from: number;
  to: number;
  reason: string;
}

export interface ControllerOptions {
  /** How often the autoscaler looks. @default 250 */
  autoscaleIntervalMs?: number;
  /**
   * Call replicas over a direct TCP channel to their actor thread (one hop) rather than actor calls
   * through the head (three); a replica that cannot offer one (TLS cluster) takes actor calls. @default true
   */
  directCalls?: boolean;
  /** Replicas are detached actors (the instance itself is: serve-host.ts). @default false */
  detachedReplicas?: boolean;
}

export interface DeployOptions {
  /** Path prefix the ingress routes to this deployment. @default `/${name}` */
  routePrefix?: string;
  /**
   * Percent of request keys (users, by hash; sticky) held out of personalisation: their requests
   * reach the stable version with `req.holdout === true`, the deployment answers its
   * non-personalised ranking, and the exposure log records arm `holdout` — the feedback loop's
   * baseline for lift. A redeploy without it keeps the current share. @default 0
   */
  holdoutPercent?: number;
}

let replicaSeq = 0;

export class ServeController {
  readonly deployments = new Map<string, DeploymentState>();
  readonly decisions: AutoscaleDecision[] = [];
  private readonly versionSeq = new Map<string, number>();
  private readonly scaleSince = new Map<string, { dir: 'up' | 'down'; since: number }>();
  private autoscaleTimer: NodeJS.Timeout | undefined;
  private readonly pending = new Set<Promise<unknown>>();
  /** Deployments with an upscale in flight (replicas starting). */
  private readonly scaling = new Set<string>();
  /** For each deployment, the deployments holding handles to it (they hear of its replica changes). */
  private readonly dependents = new Map<string, Set<string>>();

  readonly autoscaleIntervalMs: number;
  readonly directCalls: boolean;
  readonly detachedReplicas: boolean;

  constructor(options: ControllerOptions = {}) {
    this.autoscaleIntervalMs = options.autoscaleIntervalMs ?? 250;
    this.directCalls = options.directCalls ?? true;
    this.detachedReplicas = options.detachedReplicas ?? false;
    const autoscaleIntervalMs = this.autoscaleIntervalMs;
    this.autoscaleTimer = setInterval(() => this.autoscaleTick(), autoscaleIntervalMs);
    this.autoscaleTimer.unref();
  }

  get(name: string): DeploymentState {
    const d = this.deployments.get(name);
    if (!d) throw new DeploymentNotFoundError(name, [...this.deployments.keys()]);
    return d;
  }

  /**
   * A handle to the running replicas of deployment `name` (every version serving traffic: stable,
   * canary, shadow), as of now — take a new one after a swap or scaling. Throws
   * DeploymentNotFoundError for an unknown name.
   */
  handle(name: string): DeploymentHandle {
    const d = this.get(name);
    const running = d.versions().flatMap((v) => v.group.running);
    return new DeploymentHandle(name, running.map((r) => r.handle), running.map((r) => r.direct ?? null));
  }

  /** The deployment whose route prefix is the longest prefix of `path`. */
  route(path: string): { state: DeploymentState; rest: string } | undefined {
    let best: DeploymentState | undefined;
    for (const d of this.deployments.values()) {
      const p = d.route;
      if ((path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`) || p === '/') && (!best || p.length > best.route.length)) best = d;
    }
    if (!best) return undefined;
    return { state: best, rest: best.route === '/' ? path : path.slice(best.route.length) || '/' };
  }

  private nextVersion(name: string, explicit: string | undefined): string {
    const n = (this.versionSeq.get(name) ?? 0) + 1;
    this.versionSeq.set(name, n);
    return explicit ?? `v${n}`;
  }

  /** Deploys dependencies first; bound deployments among the arguments become handles. */
  private async resolveArgs(bound: BoundDeployment): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const a of bound.args) {
      if (a instanceof BoundDeployment) {
        const dep = this.deployments.get(a.deployment.name) ?? (await this.deploy(a));
        let set = this.dependents.get(dep.name);
        if (!set) this.dependents.set(dep.name, (set = new Set()));
        set.add(bound.deployment.name);
        const running = dep.stable.group.running;
        out.push(new DeploymentHandle(dep.name, running.map((r) => r.handle), running.map((r) => r.direct ?? null)));
      } else out.push(a);
    }
    return out;
  }

  /**
   * Deploys `bound`. A new name starts its replicas; an existing name gets a hot swap: the new
   * version's replicas start and pass their health check, then take all traffic while the old ones
   * drain and stop. Fails (traffic unchanged) when the new version's health check fails.
   */
  async deploy(bound: BoundDeployment, options: DeployOptions = {}): Promise<DeploymentState> {
    const name = bound.deployment.name;
    const existing = this.deployments.get(name);
    const route = options.routePrefix ?? existing?.route ?? `/${name}`;
    if (!route.startsWith('/')) throw new InvalidOptionError(`routePrefix must start with / (got ${route})`, { option: 'routePrefix' });
    const taken = [...this.deployments.values()].find((d) => d.route === route && d.name !== name);
    if (taken) throw new InvalidOptionError(`routePrefix ${route} is already routed to deployment ${taken.name}`, { option: 'routePrefix' });
    const holdout = options.holdoutPercent;
    if (holdout !== undefined && !(typeof holdout === 'number' && holdout >= 0 && holdout <= 100)) {
      throw new InvalidOptionError(`holdoutPercent must be a number between 0 and 100 (got ${String(holdout)})`, { option: 'holdoutPercent' });
    }
    const v = await this.startVersion(bound, name);
    if (!existing) {
      const d = new DeploymentState(name, route, v);
      d.holdoutPercent = holdout ?? 0;
      d.onReplicaDied = (vs, r) => this.replace(d, vs, r);
      d.enableBatching(v);
      this.deployments.set(name, d);
      serveLog.info({ deployment: name, version: v.version, replicas: v.group.replicas.length, route }, 'deployed');
      return d;
    }
    existing.enableBatching(v);
    if (holdout !== undefined) existing.holdoutPercent = holdout;
    this.swapStable(existing, v);
    if (existing.route !== route) {
      serveLog.info({ deployment: name, from: existing.route, to: route }, 'route moved');
      existing.route = route;
    }
    return existing;
  }

  /**
   * Sends `d`'s running stable replicas to every replica of the deployments holding handles to it,
   * so their handles follow autoscaling, swaps, rollbacks and replacements. Fire and forget: a
   * replica that misses it (stopping, dead) keeps its list until the next change. Resolves once
   * every holder answered (a swap stops the old replicas only then).
   */
  private publishReplicas(d: DeploymentState): Promise<void> {
    const holders = this.dependents.get(d.name);
    if (!holders?.size || this.deployments.get(d.name) !== d) return Promise.resolve();
    const running = d.stable.group.running;
    const handles = running.map((r) => r.handle);
    const directs = running.map((r) => r.direct ?? null);
    const acks: Promise<unknown>[] = [];
    for (const name of holders) {
      const e = this.deployments.get(name);
      if (!e) continue;
      for (const v of e.versions()) {
        for (const r of v.group.running) {
          acks.push(get((r.handle as any)[HANDLE_UPDATE_METHOD].remote(d.name, handles, directs)).catch((err: unknown) =>
            serveLog.warn({ deployment: name, replica: r.id, dependency: d.name, err: String(err) }, 'a replica did not take its handle update')));
        }
      }
    }
    return Promise.all(acks).then(() => undefined);
  }

  private swapStable(d: DeploymentState, v: VersionState): void {
    const old = d.stable;
    d.stable = v;
    d.previous = old;
    if (d.canary?.state === v) d.canary = undefined;
    d.queue.maxQueued = v.config.maxQueuedRequests;
    d.queue.pump();
    serveLog.info({ deployment: d.name, from: old.version, to: v.version }, 'traffic shifted to new version; draining old replicas');
    // Handles held by other deployments move to the new replicas before the old ones stop.
    this.track(this.publishReplicas(d).then(() => this.stopVersion(old)));
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private async stopVersion(v: VersionState): Promise<void> {
    await Promise.all(v.group.replicas.map((r) => drainAndStop(r)));
    v.group.replicas.length = 0;
  }

  private async startVersion(bound: BoundDeployment, name: string): Promise<VersionState> {
    const args = await this.resolveArgs(bound);
    const v = new VersionState(this.nextVersion(name, bound.deployment.config.version), bound, args);
    try {
      await this.addReplicas(v, bound.deployment.config.numReplicas);
    } catch (err) {
      await this.stopVersion(v);
      throw new HealthCheckError(name, v.version, { cause: err });
    }
    return v;
  }

  /** Starts `n` replicas of `v`; each takes traffic once its constructor ran and its health check passed. */
  private async addReplicas(v: VersionState, n: number): Promise<void> {
    const A = v.bound.deployment.replicaActorClass(this.detachedReplicas);
    const hasHealth = typeof v.bound.deployment.Class.prototype.checkHealth === 'function';
    const made: Replica[] = Array.from({ length: n }, () => ({
      id: `${v.bound.deployment.name}#${++replicaSeq}`, handle: (A.remote as (...a: unknown[]) => any)(...v.args), version: v.version, ongoing: 0, state: 'dead' as Replica['state'],
    }));
    await Promise.all(made.map(async (r) => {
      await r.handle.ready();
      if (hasHealth) await get((r.handle as any).checkHealth.remote());
      r.mux = new ReplicaMux(r.handle, this.directCalls ? await this.openChannel(r) : undefined);
    }));
    for (const r of made) {
      r.state = 'running';
      v.group.replicas.push(r);
    }
  }

  /** The replica's direct channel, or undefined (calls then take the actor path) when it offers none or it fails. */
  private async openChannel(r: Replica): Promise<DirectChannel | undefined> {
    try {
      const secret = randomBytes(24).toString('base64url');
      const address: DirectAddress | null = await get((r.handle as any)[DIRECT_METHOD].remote(secret) as ObjectRef<DirectAddress | null>);
      if (!address) return undefined;
      const ch = await DirectChannel.connect(address, secret, r.handle.actorId, r.id);
      r.direct = { ...address, secret };
      return ch;
    } catch (err) {
      serveLog.warn({ replica: r.id, err: String(err) }, 'no direct channel to the replica; the ingress calls it through the head');
      return undefined;
    }
  }

  private replace(d: DeploymentState, v: VersionState, dead: Replica): void {
    // Its channel may have closed with the actor still up (a broken connection): make sure it is gone.
    dead.mux?.close();
    try {
      kill(dead.handle);
    } catch {
      // already gone
    }
    const i = v.group.replicas.indexOf(dead);
    if (i >= 0) v.group.replicas.splice(i, 1);
    if (!d.versions().includes(v)) return;
    this.track(this.publishReplicas(d));
    this.track(this.addReplicas(v, 1).then(() => {
      d.queue.pump();
      return this.publishReplicas(d);
    }, (err: unknown) => serveLog.error({ deployment: d.name, err: String(err) }, 'replacing a dead replica failed')));
  }

  /** Starts `bound` as a canary taking `weightPct`% of request keys (sticky), or changes the weight of the running canary. */
  async rollout(name: string, bound: BoundDeployment | undefined, weightPct: number): Promise<DeploymentState> {
    if (!(weightPct >= 0 && weightPct <= 100)) throw new InvalidOptionError(`weight must be between 0 and 100 (got ${weightPct})`, { option: 'weight' });
    const d = this.get(name);
    if (bound) {
      const v = await this.startVersion(bound, name);
      d.enableBatching(v);
      if (d.canary) this.track(this.stopVersion(d.canary.state));
      d.canary = { state: v, weight: weightPct };
    } else if (!d.canary) {
      throw new InvalidOptionError(`deployment ${name} has no canary; give a version to roll out`, { option: 'version' });
    } else d.canary.weight = weightPct;
    serveLog.info({ deployment: name, canary: d.canary.state.version, weight: weightPct }, 'canary weight set');
    if (weightPct === 100) this.swapStable(d, d.canary.state);
    return d;
  }

  /** Mirrors every request to `bound`'s replicas: answers are logged, never returned. `undefined` stops the shadow. */
  async shadow(name: string, bound: BoundDeployment | undefined): Promise<void> {
    const d = this.get(name);
    const old = d.shadow;
    d.shadow = bound ? await this.startVersion(bound, name) : undefined;
    if (d.shadow) d.enableBatching(d.shadow);
    if (old) this.track(this.stopVersion(old));
  }

  /** Instant rollback: drops the canary if there is one, else returns traffic to the previous version. */
  async rollback(name: string): Promise<DeploymentState> {
    const d = this.get(name);
    if (d.canary) {
      const c = d.canary.state;
      d.canary = undefined;
      serveLog.info({ deployment: name, dropped: c.version }, 'rollback: canary removed');
      this.track(this.stopVersion(c));
      return d;
    }
    const prev = d.previous;
    if (!prev) throw new InvalidOptionError(`deployment ${name} has no previous version to roll back to`, { option: 'name' });
    serveLog.info({ deployment: name, to: prev.version }, 'rollback: redeploying the previous version');
    const v = new VersionState(prev.version, prev.bound, prev.args);
    await this.addReplicas(v, prev.bound.deployment.config.numReplicas);
    d.enableBatching(v);
    this.swapStable(d, v);
    d.previous = undefined;
    return d;
  }

  private autoscaleTick(): void {
    for (const d of this.deployments.values()) {
      const cfg = d.stable.config.autoscaling;
      if (!cfg) continue;
      const running = d.stable.group.running.length;
      // One scaling step at a time: while replicas are starting, the signal would ask for them again.
      if (running === 0 || this.scaling.has(d.name)) continue;
      this.pollHandleLoad(d.stable.group.running);
      const viaHandles = d.stable.group.running.reduce((s, r) => s + (r.handleLoad ?? 0), 0);
      const load = d.stable.group.ongoing() + d.queue.length + viaHandles;
      const desired = Math.min(cfg.maxReplicas, Math.max(cfg.minReplicas, Math.ceil(load / cfg.targetOngoingRequests)));
      const now = Date.now();
      if (desired === running) {
        this.scaleSince.delete(d.name);
        continue;
      }
      const dir = desired > running ? 'up' : 'down';
      const s = this.scaleSince.get(d.name);
      if (!s || s.dir !== dir) {
        this.scaleSince.set(d.name, { dir, since: now });
        continue;
      }
      const delayMs = (dir === 'up' ? cfg.upscaleDelayS : cfg.downscaleDelayS) * 1000;
      if (now - s.since < delayMs) continue;
      this.scaleSince.delete(d.name);
      const through = viaHandles > 0 ? ` (${viaHandles.toFixed(1)} of them through handles)` : '';
      const reason = `${load.toFixed(1)} ongoing+queued requests${through} over ${running} replicas = ${(load / running).toFixed(2)} per replica, target ${cfg.targetOngoingRequests}, for ${((now - s.since) / 1000).toFixed(1)} s ≥ ${dir === 'up' ? 'upscale' : 'downscale'}DelayS`;
      const decision = { timeMs: now, deployment: d.name, from: running, to: desired, reason };
      this.decisions.push(decision);
      if (this.decisions.length > 200) this.decisions.shift();
      serveLog.info(decision, `autoscale ${dir}`);
      const v = d.stable;
      if (dir === 'up') {
        this.scaling.add(d.name);
        this.track(this.addReplicas(v, desired - running).then(() => {
          d.queue.pump();
          return this.publishReplicas(d);
        }, (err: unknown) => serveLog.error({ deployment: d.name, err: String(err) }, 'upscale failed'))
          .finally(() => this.scaling.delete(d.name)));
      } else {
        const victims = [...v.group.running].sort((a, b) => a.ongoing - b.ongoing).slice(0, running - desired);
        for (const r of victims) r.state = 'draining';
        const published = this.publishReplicas(d);
        for (const r of victims) {
          this.track(published.then(() => drainAndStop(r)).then(() => {
            const i = v.group.replicas.indexOf(r);
            if (i >= 0) v.group.replicas.splice(i, 1);
          }));
        }
      }
    }
  }

  /** Replicas asked for their handle load and not answered yet. */
  private readonly polling = new WeakSet<Replica>();

  /** Asks each replica for the handle calls it had in flight on average since it was last asked (for the next tick). */
  private pollHandleLoad(replicas: Replica[]): void {
    for (const r of replicas) {
      if (this.polling.has(r)) continue;
      this.polling.add(r);
      void get((r.handle as any)[LOAD_METHOD].remote() as ObjectRef<number>).then(
        (n) => (r.handleLoad = n),
        () => (r.handleLoad = 0),
      ).finally(() => this.polling.delete(r));
    }
  }

  /** Deployments, versions, replicas, traffic and decisions — what `shoal serve status` prints. */
  status(): ServeStatus {
    return {
      deployments: [...this.deployments.values()].map((d) => {
        const [p50Ms, p99Ms] = d.latencies.percentiles(50, 99) as [number, number];
        return {
          name: d.name,
          route: d.route,
          version: d.stable.version,
          replicas: d.stable.group.replicas.map((r) => ({ id: r.id, state: r.state, ongoing: r.ongoing, actorId: r.handle.actorId })),
          canary: d.canary ? { version: d.canary.state.version, weight: d.canary.weight, replicas: d.canary.state.group.replicas.length } : undefined,
          shadow: d.shadow ? { version: d.shadow.version, answers: d.shadowAnswers } : undefined,
          previousVersion: d.previous?.version,
          queued: d.queue.length,
          requests: d.requests,
          errors: d.errors,
          rps: d.requests / Math.max(1e-3, (Date.now() - d.startedAt) / 1000),
          p50Ms,
          p99Ms,
          batchSizes: d.stable.batcher ? d.stable.batcher.sizes.slice(-20) : undefined,
        };
      }),
      decisions: this.decisions.slice(-50),
    };
  }

  /** Stops every replica (in-flight calls finish first). */
  async shutdown(): Promise<void> {
    if (this.autoscaleTimer) clearInterval(this.autoscaleTimer);
    this.autoscaleTimer = undefined;
    const all = [...this.deployments.values()].flatMap((d) => d.versions().concat(d.previous ? [d.previous] : []));
    this.deployments.clear();
    await Promise.all([...all.map((v) => this.stopVersion(v)), ...this.pending]);
  }
}

export interface ServeStatus {
  deployments: Array<{
    name: string; route: string; version: string;
    replicas: Array<{ id: string; state: string; ongoing: number; actorId: string }>;
    canary: { version: string; weight: number; replicas: number } | undefined;
    shadow: { version: string; answers: number } | undefined;
    previousVersion: string | undefined;
    queued: number; requests: number; errors: number; rps: number; p50Ms: number; p99Ms: number;
    batchSizes: number[] | undefined;
  }>;
  decisions: AutoscaleDecision[];
}
