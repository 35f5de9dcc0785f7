/**
 * Errors of the core runtime. Each class has a stable `code`, readonly context, and survives a trip
 * across threads and processes: `toWire()` flattens it, `errorFromWire()` rebuilds the same class by
 * name on the far side (keeping the remote stack), and `instanceof` works across realms through a
 * `Symbol.for` marker.
 */

const MARK = Symbol.for('shoal/ShoalError');
/** Static slot holding a marked class's own marker symbol (see {@link markErrorClass}). */
const CLASS_MARK = Symbol.for('shoal/error-class-marker');

export interface WireError {
  name: string;
  code: string;
  message: string;
  stack?: string | undefined;
  /** Class-specific context (task name, object id, ...). */
  context?: Record<string, unknown> | undefined;
}

/**
 * Base class of every error shoal throws on purpose, in every layer (`DataError`, `FeatureError`,
 * `TrainError` and the cli's errors extend it): `instanceof ShoalError` catches them all, and each
 * carries a stable `code`.
 */
export class ShoalError extends Error {
  readonly code: string = 'SHOAL_ERROR';
  readonly [MARK] = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /**
   * A class marked with {@link markErrorClass} matches any object carrying its `Symbol.for` marker
   * (an error made by another copy of shoal, in another realm, or rebuilt from the wire); an
   * unmarked subclass matches by prototype as usual.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    if (this === ShoalError) return MARK in value;
    if (Object.hasOwn(this, CLASS_MARK)) return (value as Record<symbol, unknown>)[(this as unknown as Record<symbol, symbol>)[CLASS_MARK]!] === true;
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }

  /** Context fields that travel with the error. */
  context(): Record<string, unknown> {
    return {};
  }

  toWire(): WireError {
    return { name: this.name, code: this.code, message: this.message, stack: this.stack, context: this.context() };
  }
}

/** Classes marked by any layer, by class name: what {@link errorFromWire} rebuilds besides core's own. */
const markedClasses = new Map<string, new (...args: never[]) => ShoalError>();

/**
 * Makes `instanceof Cls` work across realms: instances of `Cls` (and of its subclasses) carry
 * `Symbol.for(key)` on their prototype, and `instanceof Cls` tests for that marker. Each layer marks
 * its error classes once, at the end of its `errors.ts`, with keys `shoal/<layer>/<ClassName>`.
 */
export function markErrorClass(Cls: abstract new (...args: never[]) => ShoalError, key: string): void {
  // Every layer's errors are rebuilt as their own class when they cross the wire (a task that throws a
  // MalformedRecordError fails its get() with a MalformedRecordError), once the layer is loaded here.
  const name = key.slice(key.lastIndexOf('/') + 1);
  if (!markedClasses.has(name)) markedClasses.set(name, Cls as unknown as new (...args: never[]) => ShoalError);
  const marker = Symbol.for(key);
  Object.defineProperty(Cls.prototype, marker, { value: true });
  Object.defineProperty(Cls, CLASS_MARK, { value: marker });
}

/** Marks every class of `classes` with the key `${prefix}/${name}` (see {@link markErrorClass}). */
export function markErrorClasses(prefix: string, classes: Record<string, abstract new (...args: never[]) => ShoalError>): void {
  for (const [name, Cls] of Object.entries(classes)) markErrorClass(Cls, `${prefix}/${name}`);
}

/** Thrown by `get()` when the task that makes the object threw. Carries the remote error. */
export class TaskError extends ShoalError {
  override readonly code = 'TASK_FAILED';
  constructor(
    readonly taskName: string,
    readonly taskId: string,
    /** Class name of the error the task threw (e.g. `TypeError`). */
    readonly causeName: string,
    readonly causeMessage: string,
    readonly remoteStack: string,
    /** Extra fields of the original error (its `code`, ...), when serializable. */
    readonly causeCode?: string,
  ) {
    super(`task ${taskName} failed: ${causeName}: ${causeMessage}\n--- remote stack ---\n${remoteStack}`);
  }
  override context() {
    return {
      taskName: this.taskName,
      taskId: this.taskId,
      causeName: this.causeName,
      causeMessage: this.causeMessage,
      remoteStack: this.remoteStack,
      causeCode: this.causeCode,
    };
  }
}

/**
 * A task ran out of memory: its thread hit its heap limit, the task's `memory` option or, without
 * one, the V8 default heap limit of the worker's threads. The worker lives on.
 */
export class OutOfMemoryError extends ShoalError {
  override readonly code = 'OUT_OF_MEMORY';
  constructor(
    readonly taskName: string,
    readonly limitMb: number,
    /** Where the limit came from: the task's `memory` option, or the threads' default heap limit. */
    readonly limitSource: 'memory option' | 'default heap limit' = 'memory option',
  ) {
    super(
      `task ${taskName} ran out of memory (limit ${limitMb} MB, ` +
        (limitSource === 'memory option' ? "its 'memory' option" : "the worker threads' default heap limit; the task's 'memory' option sets one") +
        '); its thread was replaced, the worker lives on',
    );
  }
  override context() {
    return { taskName: this.taskName, limitMb: this.limitMb, limitSource: this.limitSource };
  }
}

/** The worker process running a task died, and the task's retries (`maxRetries`) are used up. */
export class WorkerDiedError extends ShoalError {
  override readonly code = 'WORKER_DIED';
  constructor(readonly taskName: string, readonly nodeId: string, readonly attempts: number, readonly reason = 'the worker process died') {
    super(`task ${taskName} failed on node ${nodeId}: ${reason} (attempts: ${attempts})`);
  }
  override context() {
    return { taskName: this.taskName, nodeId: this.nodeId, attempts: this.attempts, reason: this.reason };
  }
}

/** The actor is dead (killed, crashed, or its node was lost) and the call cannot be served. */
export class ActorDiedError extends ShoalError {
  override readonly code = 'ACTOR_DIED';
  constructor(readonly actorId: string, readonly actorName: string, readonly reason: string) {
    super(`actor ${actorName} (${actorId}) died: ${reason}`);
  }
  override context() {
    return { actorId: this.actorId, actorName: this.actorName, reason: this.reason };
  }
}

/**
 * An actor was created with a name a live actor already has (names are unique in a cluster, as in
 * Ray). Thrown by the new handle's `ready()` and by each of its calls; `getIfExists` avoids it.
 */
export class ActorNameTakenError extends ShoalError {
  override readonly code = 'ACTOR_NAME_TAKEN';
  constructor(readonly actorName: string, readonly existingActorId: string) {
    super(
      `an actor named '${actorName}' already exists (${existingActorId}): names are unique in a cluster; ` +
        `pass { getIfExists: true } to get the existing actor, or call getActor('${actorName}')`,
    );
  }
  override context() {
    return { actorName: this.actorName, existingActorId: this.existingActorId };
  }
}

/** `getActor(name)` found no live actor of that name. */
export class ActorNotFoundError extends ShoalError {
  override readonly code = 'ACTOR_NOT_FOUND';
  constructor(readonly actorName: string) {
    super(`no actor named '${actorName}' exists in this cluster`);
  }
  override context() {
    return { actorName: this.actorName };
  }
}

/** A method was called that the actor's class does not define. */
export class ActorMethodNotFoundError extends ShoalError {
  override readonly code = 'ACTOR_METHOD_NOT_FOUND';
  constructor(readonly actorName: string, readonly method: string, readonly methods: readonly string[]) {
    super(`actor ${actorName} has no method '${method}' (it has: ${methods.join(', ') || 'none'})`);
  }
  override context() {
    return { actorName: this.actorName, method: this.method, methods: this.methods };
  }
}

/** The object was freed (explicitly, or because no reference remained) before it was read. */
export class ObjectFreedError extends ShoalError {
  override readonly code = 'OBJECT_FREED';
  constructor(readonly objectId: string) {
    super(`object ${objectId} was freed and can no longer be read`);
  }
  override context() {
    return { objectId: this.objectId };
  }
}

/** Every copy of the object was lost and it cannot be recomputed. */
export class ObjectLostError extends ShoalError {
  override readonly code = 'OBJECT_LOST';
  constructor(readonly objectId: string, readonly reason: string) {
    super(`object ${objectId} was lost: ${reason}`);
  }
  override context() {
    return { objectId: this.objectId, reason: this.reason };
  }
}

/** `get()` or `wait()` did not finish within `timeoutMs`. */
export class GetTimeoutError extends ShoalError {
  override readonly code = 'GET_TIMEOUT';
  constructor(readonly timeoutMs: number, readonly pending: number) {
    super(`get timed out after ${timeoutMs} ms with ${pending} object(s) not ready`);
  }
  override context() {
    return { timeoutMs: this.timeoutMs, pending: this.pending };
  }
}

/** The task was cancelled with `cancel()` before it finished. */
export class TaskCancelledError extends ShoalError {
  override readonly code = 'TASK_CANCELLED';
  constructor(readonly taskName: string, readonly taskId: string) {
    super(`task ${taskName} (${taskId}) was cancelled`);
  }
  override context() {
    return { taskName: this.taskName, taskId: this.taskId };
  }
}

/** A value cannot be serialized (a function, a socket, a cycle, ...). `path` says where it sits. */
export class SerializationError extends ShoalError {
  override readonly code = 'SERIALIZATION';
  constructor(readonly path: string, readonly reason: string) {
    super(`cannot serialize ${path}: ${reason}`);
  }
  override context() {
    return { path: this.path, reason: this.reason };
  }
}

/** A remote function or actor class was defined where workers cannot load it. */
export class RemoteDefinitionError extends ShoalError {
  override readonly code = 'REMOTE_DEFINITION';
  constructor(message: string, readonly definition: string) {
    super(`${message} (see README: "Where to define remote functions")`);
  }
  override context() {
    return { definition: this.definition };
  }
}

/** The job's code could not be bundled for shipping to workers. */
export class BundleBuildError extends ShoalError {
  override readonly code = 'BUNDLE_BUILD';
  constructor(readonly entry: string, readonly details: string) {
    super(`could not bundle ${entry} for the workers:\n${details}`);
  }
  override context() {
    return { entry: this.entry, details: this.details };
  }
}

/** The address does not answer as a shoal head, or the connection was lost. */
export class ConnectionError extends ShoalError {
  override readonly code: string = 'CONNECTION';
  constructor(readonly address: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot reach a shoal head at ${address}: ${reason}`, options);
  }
  override context() {
    return { address: this.address };
  }
}

/**
 * The head went away (died, or restarting) and did not come back within the reconnect timeout:
 * what this driver had submitted and not got back, including work submitted while the head was
 * down, fails with this. The work was not lost by the caller; the head was unavailable.
 */
export class HeadUnavailableError extends ConnectionError {
  override readonly code: string = 'HEAD_UNAVAILABLE';
  constructor(address: string, readonly waitedMs: number, reason: string, options?: { cause?: unknown }) {
    super(address, `the head is unavailable: it ${reason}, and it did not come back within ${waitedMs} ms (the reconnect timeout: option reconnectTimeoutMs or SHOAL_RECONNECT_TIMEOUT_MS); work submitted meanwhile was not run`, options);
  }
  override context() {
    return { address: this.address, waitedMs: this.waitedMs };
  }
}

/** The cluster token was missing or wrong. */
export class AuthenticationError extends ShoalError {
  override readonly code = 'UNAUTHENTICATED';
  constructor(readonly address: string, readonly tokenSource?: string) {
    super(
      `the head at ${address} rejected the cluster token (missing or wrong); pass the token from the head's token file` +
        (tokenSource ? ` (the token given came from ${tokenSource})` : ''),
    );
  }
  override context() {
    return { address: this.address, tokenSource: this.tokenSource };
  }
}

/**
 * An option failed validation, in any layer (task and actor options, readers, kernels, featurizers,
 * trainers, cli flags). The message names the option, the caller when known, and the rule:
 * `readCsv option 'delimiter' must be a single character; got ";;"`.
 */
export class InvalidOptionError extends ShoalError {
  override readonly code = 'INVALID_OPTION';
  /** The option at fault (`options.rank`, `--port`, `delimiter`), when one is named. */
  readonly option: string | undefined;
  /** The stage (featurizer or model class) whose option it is, when known. */
  readonly stage: string | undefined;
  /** The column concerned, when there is one. */
  readonly column: string | undefined;
  constructor(message: string, options?: { option?: string | undefined; stage?: string | undefined; column?: string | undefined; cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.option = options?.option;
    this.stage = options?.stage;
    this.column = options?.column;
  }
  override context() {
    return { option: this.option, stage: this.stage, column: this.column };
  }
}

/**
 * The {@link InvalidOptionError} for `option` breaking `rule`: message `${option} ${rule}`, prefixed
 * with the stage and column when given (`stage Bucketizer, column "x": options.splits must be …`).
 */
export function invalidOption(option: string, rule: string, where: { stage?: string | undefined; column?: string | undefined; cause?: unknown } = {}): InvalidOptionError {
  const prefix = [where.stage !== undefined ? `stage ${where.stage}` : '', where.column !== undefined ? `column "${where.column}"` : ''].filter(Boolean).join(', ');
  return new InvalidOptionError(`${prefix ? `${prefix}: ` : ''}${option} ${rule}`, { ...where, option });
}

/** An API that needs a cluster was called before `init()`. */
export class NotInitializedError extends ShoalError {
  override readonly code = 'NOT_INITIALIZED';
  constructor(what: string) {
    super(`${what} needs a cluster: call init() first`);
  }
}

/** A process of another shoal version tried to join. */
export class VersionMismatchError extends ShoalError {
  override readonly code = 'VERSION_MISMATCH';
  constructor(readonly localVersion: string, readonly remoteVersion: string) {
    super(`shoal version mismatch: this process runs ${localVersion}, the head runs ${remoteVersion}`);
  }
  override context() {
    return { localVersion: this.localVersion, remoteVersion: this.remoteVersion };
  }
}

/**
 * A control call named a method the head does not have: the caller runs another shoal version (or
 * was hand-made). `knownMethods` lists the head's.
 */
export class UnknownControlMethodError extends ShoalError {
  override readonly code = 'UNKNOWN_CONTROL_METHOD';
  constructor(readonly method: string, readonly knownMethods: readonly string[]) {
    super(
      `the head has no control method '${method}' (it has: ${knownMethods.join(', ')}); ` +
        'the caller may run another shoal version than the head',
    );
  }
  override context() {
    return { method: this.method, knownMethods: this.knownMethods };
  }
}

/**
 * A control call's body does not fit its method's request (a field missing or of the wrong type).
 * `field` names the first field at fault (`bundles[1].CPU`; `body` for the body as a whole).
 */
export class InvalidControlRequestError extends ShoalError {
  override readonly code = 'INVALID_CONTROL_REQUEST';
  constructor(readonly method: string, readonly field: string, readonly reason: string) {
    super(`control call '${method}' has an invalid body: ${reason}`);
  }
  override context() {
    return { method: this.method, field: this.field, reason: this.reason };
  }
}

/** A task asked for resources no node in the cluster has, or a placement group cannot be placed. */
export class InfeasibleError extends ShoalError {
  override readonly code = 'INFEASIBLE';
}

/**
 * The head's store (`--store`: a SQLite file or a PostgreSQL URL) cannot be opened, read or used:
 * unreadable or corrupt, written by a newer shoal (`reason` says which schema version), or the
 * database refuses the connection. `store` names it (file path, or URL without password).
 */
export class HeadStoreError extends ShoalError {
  override readonly code = 'HEAD_STORE';
  constructor(readonly store: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`head store ${store}: ${reason}`, options);
  }
  override context() {
    return { store: this.store, reason: this.reason };
  }
}

/**
 * A runtime process (head or worker) exited, or never said it was ready, while its starter waited.
 * `reason` quotes the last line the process wrote to stderr; `errFile` holds all of it.
 */
export class ProcessStartError extends ShoalError {
  override readonly code = 'PROCESS_START';
  /** What the process wrote to stderr while it was starting. */
  readonly stderr: string;
  constructor(readonly role: string, readonly reason: string, readonly errFile: string, options?: { cause?: unknown; stderr?: string }) {
    super(`the shoal ${role} failed to start: ${reason} (see ${errFile})`, options);
    this.stderr = options?.stderr ?? '';
  }
  override context() {
    return { role: this.role, reason: this.reason, errFile: this.errFile };
  }
}

/** Classes rebuilt by name on the far side of the wire. */
const wireClasses: Record<string, new (...args: any[]) => ShoalError> = {
  TaskError, OutOfMemoryError, WorkerDiedError, ActorDiedError, ActorNameTakenError, ActorNotFoundError, ActorMethodNotFoundError,
  ObjectFreedError, ObjectLostError, GetTimeoutError, TaskCancelledError, SerializationError, RemoteDefinitionError,
  BundleBuildError, ConnectionError, HeadUnavailableError, AuthenticationError, InvalidOptionError, NotInitializedError,
  VersionMismatchError, InfeasibleError, HeadStoreError, ProcessStartError, UnknownControlMethodError, InvalidControlRequestError,
};
markErrorClasses('shoal/core', wireClasses);

/** Flattens any thrown value for the wire. Non-shoal errors keep their class name and message. */
export function errorToWire(err: unknown): WireError {
  if (err instanceof ShoalError) return err.toWire();
  if (err instanceof Error) {
    const code = typeof (err as { code?: unknown }).code === 'string' ? (err as unknown as { code: string }).code : 'ERROR';
    return { name: err.name || err.constructor?.name || 'Error', code, message: err.message, stack: err.stack };
  }
  return { name: 'NonErrorThrown', code: 'ERROR', message: `a non-Error value was thrown: ${String(err)}` };
}

/**
 * Rebuilds the error class named on the wire, with its message, code and context fields (no
 * constructor runs). The remote stack is kept below the local one, its header (name and message,
 * which for a TaskError holds the task's own stack) not repeated, so each hop adds only frames.
 */
export function errorFromWire(w: WireError): Error {
  const Cls = wireClasses[w.name] ?? markedClasses.get(w.name);
  const header = `${w.name}: ${w.message}`;
  const frames = (new Error().stack ?? '').split('\n').slice(1).join('\n');
  const remote = w.stack?.startsWith(header) ? w.stack.slice(header.length).replace(/^\n/, '') : w.stack;
  const local = `${header}\n${frames}`;
  if (Cls) {
    const e = Object.create(Cls.prototype) as ShoalError & Record<string | symbol, unknown>;
    Object.assign(e, w.context ?? {});
    Object.defineProperties(e, {
      message: { value: w.message, writable: true, configurable: true },
      name: { value: w.name, writable: true, configurable: true },
      code: { value: w.code, writable: true, configurable: true },
      [MARK]: { value: true },
      stack: { value: remote ? `${local}\n--- remote ---\n${remote}` : local, writable: true, configurable: true },
    });
    return e;
  }
  const e = new ShoalError(w.message);
  e.name = w.name;
  (e as { code: string }).code = w.code;
  if (w.stack) e.stack = w.stack;
  return e;
}
