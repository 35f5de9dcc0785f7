/**
 * Errors of the dashboard. The HTTP layer maps each code to a status (http-errors.ts in server/);
 * the message says what was wrong and where, and is what the page shows.
 */
import { markErrorClasses, ShoalError } from '../core/index.js';

/** Root of the dashboard's errors. */
export class DashboardError extends ShoalError {
  override readonly code: string = 'DASHBOARD_ERROR';
}

/** A page or API path names something that does not exist (a job, an actor, a route). */
export class DashboardNotFoundError extends DashboardError {
  override readonly code = 'DASHBOARD_NOT_FOUND';
  constructor(readonly what: string) {
    super(`${what} not found`);
  }
  override context() {
    return { what: this.what };
  }
}

/** A state-changing request on a dashboard serving history (the cluster is gone): nothing to change. */
export class DashboardReadOnlyError extends DashboardError {
  override readonly code = 'DASHBOARD_READ_ONLY';
  constructor(readonly action: string) {
    super(`${action}: this dashboard serves the history of a stopped cluster and is read-only`);
  }
  override context() {
    return { action: this.action };
  }
}

/** An action the dashboard asked another process to take (a serve instance's rollback) failed there: `status` and its message say why. */
export class DashboardActionError extends DashboardError {
  override readonly code = 'DASHBOARD_ACTION_FAILED';
  constructor(readonly action: string, readonly status: number, reason: string, options?: { cause?: unknown }) {
    super(`${action} failed: ${reason}`, options);
  }
  override context() {
    return { action: this.action, status: this.status };
  }
}

/** `shoal dashboard --history` was pointed at something that holds no cluster history. */
export class DashboardHistoryError extends DashboardError {
  override readonly code = 'DASHBOARD_HISTORY';
  constructor(readonly source: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot serve the history in ${source}: ${reason}`, options);
  }
  override context() {
    return { source: this.source };
  }
}

markErrorClasses('shoal/dashboard', { DashboardError, DashboardNotFoundError, DashboardReadOnlyError, DashboardHistoryError, DashboardActionError });
