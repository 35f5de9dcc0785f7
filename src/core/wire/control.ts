/**
 * The head's control methods (`ping`, `status`, named actors, placement groups, jobs) in one table:
 * each method's request, as a zod schema the head checks a call against when it arrives, and its
 * reply type. The client (`HeadClient.control`) and the head's handlers ({@link ControlDispatcher})
 * are both typed by this table, so a misspelt method or a wrong body is a compile error on either
 * side. A call that does not fit (an older or newer client, a hand-made one) is a typed error sent
 * back to the caller — the method named, or the field — never a crash of the head.
 */
import { z } from 'zod';
import { InvalidControlRequestError, UnknownControlMethodError } from '../errors.js';
import type { AutoscalerDecision, AutoscalerOptions } from '../head/autoscaler.js';
import type { HeadInfo } from '../head/head.js';
import type { HeadState } from '../head/head-state.js';
import type { JobRecord } from '../head/head-store.js';

/** No body: clients send null (or nothing). */
const noBody = z.null().optional();
const bundleHash = z.string().regex(/^[0-9a-f]{32}$/, 'must be a code bundle hash (32 hex digits)');
const resources = z.record(z.string(), z.number().nonnegative());

/** The request of every control method, checked by the head before its handler runs. */
export const CONTROL_REQUESTS = {
  ping: noBody,
  status: noBody,
  'get-actor': z.object({ name: z.string() }),
  'pg-create': z.object({
    id: z.string().min(1),
    bundles: z.array(resources).min(1),
    strategy: z.enum(['PACK', 'SPREAD', 'STRICT_PACK', 'STRICT_SPREAD']),
    /** The session that owns the group (it is removed with it). */
    sessionId: z.string(),
  }),
  'pg-ready': z.object({ id: z.string().min(1) }),
  'pg-remove': z.object({ id: z.string().min(1) }),
  'job-submit': z.object({
    /** The job's entry bundle. */
    bundle: bundleHash,
    /** A job of several files: file name → bundle hash, the entry among them. */
    modules: z.record(z.string(), bundleHash).nullish(),
    args: z.array(z.string()).nullish(),
    env: z.record(z.string(), z.string()).nullish(),
    /** How the user wrote it, for display. */
    entrypoint: z.string(),
  }),
  'job-list': noBody,
  'job-get': z.object({ id: z.string().min(1) }),
  'job-stop': z.object({ id: z.string().min(1) }),
  /**
   * A small JSON event a driver publishes to the head's extensions (the dashboard): serving status,
   * data stage progress. Bounded (PUBLISH_MAX_BYTES) and rate-limited per topic (head/published.ts).
   */
  publish: z.object({
    topic: z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'must be a topic name: lower case letters, digits, . _ -, at most 64, e.g. serve.status'),
    data: z.unknown(),
  }),
} satisfies Record<keyof ControlReplies, z.ZodType>;

/** What the head's `status` method replies. */
export type ClusterStatusReply = ReturnType<HeadState['status']> & {
  jobs: JobRecord[];
  head: HeadInfo & { version: string; hostname: string; recovering: boolean };
  autoscaler?: { provider: string; options: AutoscalerOptions; decisions: AutoscalerDecision[] } | undefined;
};

/** The reply of every control method. */
export interface ControlReplies {
  ping: { version: string; address: string };
  status: ClusterStatusReply;
  'get-actor': { actorId: string; className: string; methods: string[]; name: string };
  'pg-create': null;
  'pg-ready': null;
  'pg-remove': null;
  'job-submit': JobRecord;
  'job-list': JobRecord[];
  'job-get': JobRecord;
  'job-stop': JobRecord;
  /** `accepted` false: over the topic's rate, dropped (publishers send state, the next one replaces it). */
  publish: { accepted: boolean };
}

export type ControlMethod = keyof ControlReplies;

/** Method name → the request a client sends → the reply it gets. */
export type ControlMethods = { [M in ControlMethod]: { request: z.input<(typeof CONTROL_REQUESTS)[M]>; reply: ControlReplies[M] } };

/** The body and deadline of a call to `M`; the body may be left out when the method takes none. */
export type ControlArgs<M extends ControlMethod> = null extends ControlMethods[M]['request']
  ? [body?: ControlMethods[M]['request'], timeoutMs?: number]
  : [body: ControlMethods[M]['request'], timeoutMs?: number];

/** The head's handler of every method: given the checked request, it returns the method's reply. */
export type ControlHandlers = {
  [M in ControlMethod]: (request: z.output<(typeof CONTROL_REQUESTS)[M]>) => ControlReplies[M] | Promise<ControlReplies[M]>;
};

/** Every control method, in table order. */
export const CONTROL_METHODS = Object.keys(CONTROL_REQUESTS) as ControlMethod[];

/** Routes a control call that arrived over the wire to its handler, after checking its body. */
export class ControlDispatcher {
  constructor(private readonly handlers: ControlHandlers) {}

  /**
   * Runs `method` on `body`. Rejects with UnknownControlMethodError when the table has no such
   * method, InvalidControlRequestError when the body does not fit its request, or the handler's error.
   */
  async dispatch(method: string, body: unknown): Promise<unknown> {
    if (!Object.hasOwn(CONTROL_REQUESTS, method)) throw new UnknownControlMethodError(method, CONTROL_METHODS);
    const m = method as ControlMethod;
    const parsed = CONTROL_REQUESTS[m].safeParse(body);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ field: fieldName(i.path), message: i.message }));
      throw new InvalidControlRequestError(m, issues[0]!.field, issues.map((i) => `${i.field}: ${i.message}`).join('; '));
    }
    const handler = this.handlers[m] as (request: unknown) => unknown;
    return handler(parsed.data);
  }
}

/** `bundles[1].CPU`, or `body` for the body as a whole. */
function fieldName(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || 'body';
}
