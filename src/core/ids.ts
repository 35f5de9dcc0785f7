import { randomBytes } from 'node:crypto';

/**
 * Ids are random hex strings with a readable prefix. A task's return object id is derived from the
 * task id, so the lineage of an object is recoverable from its id alone.
 */
let counter = 0;
const processTag = randomBytes(6).toString('hex');

export function newId(prefix: string): string {
  counter = (counter + 1) >>> 0;
  return `${prefix}${processTag}${counter.toString(16).padStart(8, '0')}`;
}

export const newTaskId = (): string => newId('t');
export const newObjectId = (): string => newId('o');
export const newActorId = (): string => newId('a');
export const newNodeId = (): string => newId('n');
export const newJobId = (): string => newId('j');

/** Object id of the return value of task `taskId`. */
export const returnObjectId = (taskId: string): string => `o${taskId.slice(1)}`;
