/** Options of Dataset execution, compiled once into a complete validated form. */
import { InvalidOptionError } from '../errors.js';

export interface ExecutionOptions {
  /** Partition tasks of one stage submitted at once (backpressure). @default 8 */
  maxTasksInFlight?: number;
  /** Partitions after a shuffle (groupBy, join, distinct). @default the input's partition count, capped at 64 */
  shufflePartitions?: number;
  /** A join side with at most this many rows is broadcast to every partition of the other side. @default 100_000 */
  broadcastThresholdRows?: number;
  /**
   * Bytes of partitions (measured from their Arrow buffers) a stage may have in flight, and a streamed
   * result may hold ahead of its consumer. @default half the object store capacity of the cluster's nodes
   */
  memoryBudgetBytes?: number;
  /** Progress line on stderr. @default SHOAL_PROGRESS=1, or stderr is a TTY outside tests (SHOAL_PROGRESS=0 turns it off) */
  progress?: boolean;
}

export interface CompiledExecutionOptions {
  readonly maxTasksInFlight: number;
  readonly shufflePartitions: number | undefined;
  readonly broadcastThresholdRows: number;
  readonly memoryBudgetBytes: number | undefined;
  readonly progress: boolean;
}

const positiveInt = (name: string, v: number | undefined): void => {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new InvalidOptionError(`options.${name}`, `must be a positive integer; got ${String(v)}`);
};

export function compileExecutionOptions(o: ExecutionOptions = {}): CompiledExecutionOptions {
  positiveInt('maxTasksInFlight', o.maxTasksInFlight);
  positiveInt('shufflePartitions', o.shufflePartitions);
  if (o.broadcastThresholdRows !== undefined && !(Number.isInteger(o.broadcastThresholdRows) && o.broadcastThresholdRows >= 0)) {
    throw new InvalidOptionError('options.broadcastThresholdRows', `must be a non-negative integer; got ${String(o.broadcastThresholdRows)}`);
  }
  positiveInt('memoryBudgetBytes', o.memoryBudgetBytes);
  const env = process.env.SHOAL_PROGRESS;
  const progress = o.progress ?? (env === '1' ? true : env === '0' ? false : Boolean(process.stderr.isTTY) && !process.env.VITEST);
  return {
    maxTasksInFlight: o.maxTasksInFlight ?? 8,
    shufflePartitions: o.shufflePartitions,
    broadcastThresholdRows: o.broadcastThresholdRows ?? 100_000,
    memoryBudgetBytes: o.memoryBudgetBytes,
    progress,
  };
}
