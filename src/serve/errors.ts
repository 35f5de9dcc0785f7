/**
 * Errors of the serve layer. Each has a stable `code` and the HTTP status the ingress answers with;
 * all extend {@link ShoalError} and are marked so `instanceof` works across realms.
 */
import { InvalidOptionError, markErrorClasses, ShoalError } from '../core/index.js';

export { InvalidOptionError };

/** Base class of every serve-layer error. `status` is the HTTP status the ingress maps it to. */
export class ServeError extends ShoalError {
  override readonly code: string = 'SERVE_ERROR';
  /** A prototype getter, not a field: an error rebuilt from the wire (thrown in a replica) has it too. */
  get status(): number {
    return 500;
  }
}

/** Every replica is at `maxOngoingRequests` and the bounded queue is full: the ingress answers 503 with Retry-After. */
export class OverloadedError extends ServeError {
  override readonly code = 'SERVE_OVERLOADED';
  override get status(): number {
    return 503;
  }
  constructor(readonly deployment: string, readonly queued: number) {
    super(`deployment ${deployment} is overloaded: every replica is at maxOngoingRequests and ${queued} requests are queued`);
  }
}

/** No deployment of that name (or none routed at that path). */
export class DeploymentNotFoundError extends ServeError {
  override readonly code = 'SERVE_DEPLOYMENT_NOT_FOUND';
  override get status(): number {
    return 404;
  }
  constructor(readonly deployment: string, known: readonly string[]) {
    super(`no deployment named '${deployment}' (deployed: ${known.join(', ') || 'none'})`);
  }
}

/** The request could not be served because replicas died (after the one retry a GET gets). */
export class ReplicaUnavailableError extends ServeError {
  override readonly code = 'SERVE_REPLICA_UNAVAILABLE';
  override get status(): number {
    return 503;
  }
  constructor(readonly deployment: string, reason: string) {
    super(`deployment ${deployment}: ${reason}`);
  }
}

/** The request body is not what the endpoint takes (malformed JSON, ...): 400. */
export class BadRequestError extends ServeError {
  override readonly code = 'SERVE_BAD_REQUEST';
  override get status(): number {
    return 400;
  }
}

/** The request body is larger than the ingress's `maxBodyBytes`: 413. */
export class BodyTooLargeError extends ServeError {
  override readonly code = 'SERVE_BODY_TOO_LARGE';
  override get status(): number {
    return 413;
  }
  constructor(readonly limitBytes: number) {
    super(`request body is larger than the limit of ${limitBytes} bytes`);
  }
}

/** Missing or wrong serving key (inference) or cluster token (admin): 401. */
export class UnauthorizedError extends ServeError {
  override readonly code = 'SERVE_UNAUTHORIZED';
  override get status(): number {
    return 401;
  }
}

/** A new version's replicas failed their health check; traffic stays on the old version. */
export class HealthCheckError extends ServeError {
  override readonly code = 'SERVE_HEALTH_CHECK_FAILED';
  constructor(readonly deployment: string, readonly version: string, options?: { cause?: unknown }) {
    super(`deployment ${deployment} version ${version} failed its health check; traffic stays on the current version`, options);
  }
}

/**
 * A registry model's stored input/output signature is not the one the deployment declares (or it
 * has none): thrown at deploy time (registry-model.ts), before any replica starts or takes traffic.
 * `differences` lists each mismatch (`input 'user': type int32 declared, string stored`).
 */
export class ModelSignatureMismatchError extends ServeError {
  override readonly code = 'SERVE_SIGNATURE_MISMATCH';
  override get status(): number {
    return 409;
  }
  constructor(readonly model: string, readonly differences: readonly string[]) {
    super(`${model}: the stored signature does not match the deployment's: ${differences.join('; ')}`);
  }
  override context() {
    return { model: this.model, differences: [...this.differences] };
  }
}

markErrorClasses('shoal/serve', {
  ServeError, OverloadedError, DeploymentNotFoundError, ReplicaUnavailableError, BadRequestError, BodyTooLargeError,
  UnauthorizedError, HealthCheckError, ModelSignatureMismatchError,
});
