/**
 * Errors of the `shoal` command. Each names what is wrong and what to do; `main()` prints the
 * message of any {@link ShoalError} as one line and exits with code 1 (no stack: these are the
 * user's to fix, not bugs).
 */
import { ProcessStartError, ShoalError } from '../core/index.js';

/** A head or worker process exited, or never said it was ready (core's error, re-exported here). */
export { ProcessStartError };

/** No cluster address could be found (no --address, no SHOAL_ADDRESS, no cluster.json). */
export class NoClusterError extends ShoalError {
  override readonly code = 'NO_CLUSTER';
}

/** No cluster token was given for an address (the address answers: see withHead). */
export class MissingTokenError extends ShoalError {
  override readonly code = 'MISSING_TOKEN';
  constructor(readonly address: string) {
    super(`no cluster token for ${address}: pass --token-file FILE (a copy of the head's token file), or set SHOAL_TOKEN or SHOAL_TOKEN_FILE`);
  }
  override context() {
    return { address: this.address };
  }
}

/** `shoal start --head` asked for a port something else already listens on. */
export class PortInUseError extends ShoalError {
  override readonly code = 'PORT_IN_USE';
  constructor(readonly host: string, readonly port: number, options?: { cause?: unknown }) {
    super(
      `port ${port} on ${host} is already in use (another shoal head or another program listens there); ` +
        `stop it, or pick another port with --port (--port 0 picks a free one)`,
      options,
    );
  }
  override context() {
    return { host: this.host, port: this.port };
  }
}

/** `shoal start` found processes of an earlier `shoal start` still running in SHOAL_HOME. */
export class ClusterRunningError extends ShoalError {
  override readonly code = 'CLUSTER_RUNNING';
}

