/**
 * A HeadState with fake sessions: drivers and worker nodes are plain objects recording what the
 * head sends them, so the scheduler, actors and placement groups are tested without processes.
 * Workers answer only when the test says so (`finish`), which makes every step observable.
 */
import { HeadState, type SessionHandle } from '../../../../src/core/head/head-state.js';
import type { WireError } from '../../../../src/core/errors.js';
import { returnObjectId } from '../../../../src/core/ids.js';
import type { ExecuteMsg, HeadMsg, ReadyMsg, Resources, SchedulingStrategy, TaskSpec } from '../../../../src/core/wire/protocol.js';
import { serialize } from '../../../../src/core/wire/serialization.js';

export interface FakeSession extends SessionHandle {
  sent: HeadMsg[];
}

let seq = 0;
const hex = (n: number): string => n.toString(16).padStart(8, '0');

export class FakeCluster {
  readonly state = new HeadState();
  readonly events: Array<{ event: string; fields: Record<string, unknown> }> = [];

  constructor() {
    this.state.onEvent = (event, fields) => this.events.push({ event, fields });
  }

  driver(id = `driver-${++seq}`): FakeSession {
    const s: FakeSession = { id, role: 'driver', jobId: 'j1', sent: [], send: (m) => s.sent.push(m) };
    this.state.addSession(s);
    return s;
  }

  worker(nodeId: string, resources: Resources): FakeSession {
    const info = { nodeId, resources, address: `${nodeId}:1`, hostname: nodeId };
    const s: FakeSession = { id: `session-${nodeId}`, role: 'worker', jobId: '', nodeId, nodeInfo: info, sent: [], send: (m) => s.sent.push(m) };
    this.state.addSession(s);
    this.state.addNode(s, info);
    return s;
  }

  /** Lets the coalesced scheduling pass (a microtask) run. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }

  /** Tasks the head told this worker to run, in order. */
  executed(w: FakeSession): ExecuteMsg[] {
    return w.sent.filter((m): m is ExecuteMsg => m.t === 'execute');
  }

  /** Names of the tasks each worker was told to run. */
  placement(...workers: FakeSession[]): Record<string, string[]> {
    return Object.fromEntries(workers.map((w) => [w.nodeId!, this.executed(w).map((m) => m.spec.name)]));
  }

  /** The ready message the driver got for a task's result, if any. */
  result(d: FakeSession, spec: TaskSpec): ReadyMsg | undefined {
    const id = returnObjectId(spec.taskId);
    return d.sent.find((m): m is ReadyMsg => m.t === 'ready' && m.id === id);
  }

  /** The worker reports a task finished (with a small inline value unless it failed). */
  finish(w: FakeSession, spec: TaskSpec, o: { system?: boolean; error?: string } = {}): void {
    const error: WireError | undefined = o.error === undefined ? undefined : { name: 'TaskError', code: 'TASK_FAILED', message: o.error };
    this.state.handle({ t: 'done', taskId: spec.taskId, ...(error ? { error, system: o.system ?? false } : { inline: serialize(1) }), ms: 1 }, w);
  }
}

export function task(name: string, o: { resources?: Resources; strategy?: SchedulingStrategy; deps?: string[]; maxRetries?: number } = {}): TaskSpec {
  return {
    taskId: `t${hex(++seq)}`, jobId: 'j1', kind: 'task', name, fn: { bundle: '', name, definedAt: 'test' },
    args: serialize([]), deps: o.deps ?? [], nested: [], resources: o.resources ?? { CPU: 1 },
    maxRetries: o.maxRetries ?? 0, strategy: o.strategy ?? 'DEFAULT',
  };
}

export function actorCreate(name: string, o: { resources?: Resources; strategy?: SchedulingStrategy; maxRestarts?: number; actorName?: string } = {}): TaskSpec {
  const n = ++seq;
  return {
    taskId: `t${hex(n)}`, jobId: 'j1', kind: 'actor-create', name, fn: { bundle: '', name, definedAt: 'test' }, actorId: `a${hex(n)}`,
    args: serialize([]), deps: [], nested: [], resources: o.resources ?? { CPU: 1 }, maxRetries: 0,
    strategy: o.strategy ?? 'DEFAULT',
    actor: { name: o.actorName, maxConcurrency: 1, maxRestarts: o.maxRestarts ?? 0, maxTaskRetries: 0, detached: false, methods: ['ping'] },
  };
}

export function actorCall(create: TaskSpec, method = 'ping'): TaskSpec {
  return {
    taskId: `t${hex(++seq)}`, jobId: 'j1', kind: 'actor-call', name: `${create.name}.${method}`, actorId: create.actorId,
    method, args: serialize([]), deps: [], nested: [], resources: {}, maxRetries: 0, strategy: 'DEFAULT',
  };
}
