/** Options of Dataset execution, compiled once into a complete validated form. */
import { invalidOption } from '../errors.js';

/** Spark's default spark.sql.autoBroadcastJoinThreshold. */
const DEFAULT_BROADCAST_THRESHOLD_BYTES = 10 * 2 ** 20;

export interface ExecutionOptions {
  /** Partition tasks of one stage submitted at once (backpressure). @default 8 */
  maxTasksInFlight?: number;
  /** Partitions after a shuffle (groupBy, join, distinct). @default the input's partition count, capped at 64 */
  shufflePartitions?: number;
  /**
   * A join side whose partitions hold at most this many bytes of Arrow buffers (measured once the
   * side is computed) is broadcast to every partition of the other side instead of shuffling both;
   * 0 never broadcasts. @default 10 MiB (Spark's spark.sql.autoBroadcastJoinThreshold)
   */
  broadcastThresholdBytes?: number;
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
  readonly broadcastThresholdBytes: number;
  readonly memoryBudgetBytes: number | undefined;
  readonly progress: boolean;
}

const positiveInt = (name: string, v: number | undefined): void => {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw invalidOption(`options.${name}`, `must be a positive integer; got ${String(v)}`);
};

export function compileExecutionOptions(o: ExecutionOptions = {}): CompiledExecutionOptions {
  positiveInt('maxTasksInFlight', o.maxTasksInFlight);
  positiveInt('shufflePartitions', o.shufflePartitions);
  if (o.broadcastThresholdBytes !== undefined && !(Number.isInteger(o.broadcastThresholdBytes) && o.broadcastThresholdBytes >= 0)) {
    throw invalidOption('options.broadcastThresholdBytes', `must be a non-negative integer; got ${String(o.broadcastThresholdBytes)}`);
  }
  positiveInt('memoryBudgetBytes', o.memoryBudgetBytes);
  const env = process.env.SHOAL_PROGRESS;
  const progress = o.progress ?? (env === '1' ? true : env === '0' ? false : Boolean(process.stderr.isTTY) && !process.env.VITEST);
  return {
    maxTasksInFlight: o.maxTasksInFlight ?? 8,
    shufflePartitions: o.shufflePartitions,
    broadcastThresholdBytes: o.broadcastThresholdBytes ?? DEFAULT_BROADCAST_THRESHOLD_BYTES,
    memoryBudgetBytes: o.memoryBudgetBytes,
    progress,
  };
}
