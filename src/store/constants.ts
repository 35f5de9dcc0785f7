/** Constants of the store layer, with their units. */
import { randomBytes } from 'node:crypto';

/** How often a run's owner refreshes its heartbeat. */
export const HEARTBEAT_MS = 10_000;
/** A RUNNING run whose heartbeat is older than this is taken for dead (its owner is on another host, or gone). */
export const STALE_MS = 60_000;

/** A new run or experiment id: 32 hex digits. */
export const newId = (): string => randomBytes(16).toString('hex');
