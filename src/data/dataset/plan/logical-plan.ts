/**
 * Logical plan nodes of a Dataset. Transformations build a tree of these (nothing runs); the optimizer
 * rewrites it into physical nodes (`scan` with pushed columns/filters and fused operators, `map` with
 * fused operators), and the executor turns each node into a stage of partition tasks.
 */
import type * as arrow from 'apache-arrow';
import type { ObjectRef, RemoteFunction } from '../../../core/index.js';
import type { AggSpec } from '../../kernels/aggregate.js';
import type { JoinOn, JoinType } from '../../kernels/hash-join.js';
import type { SortKey } from '../../kernels/sort.js';
import type { ExprNode } from '../../expr/expr-node.js';
import type { WindowColumnSpec } from '../../expr/window.js';
import type { SourceSpec } from '../sources/source-options.js';
import type { NarrowOp } from './narrow-ops.js';

/**
 * A user function for mapBatches: a remote function from one Arrow table (and the extra `args` given
 * to mapBatches, ObjectRefs among them resolved to their values) to another.
 */
export type BatchFunction = RemoteFunction<[arrow.Table, ...any[]], arrow.Table>;

/** The partitions of a cached dataset, shared by every dataset derived from it (null until computed). */
export interface CacheState {
  refs: ObjectRef<arrow.Table>[] | null;
}

let nextNodeId = 0;
export const newNodeId = (): number => ++nextNodeId;

export type PlanNode =
  | { readonly kind: 'source'; readonly id: number; readonly source: SourceSpec }
  | { readonly kind: 'narrow'; readonly id: number; readonly input: PlanNode; readonly ops: readonly NarrowOp[] }
  /** `args` follow the table in every call; `batchSize` re-chunks the input into batches of that many rows (null: one call per partition). */
  | { readonly kind: 'mapBatches'; readonly id: number; readonly input: PlanNode; readonly fn: BatchFunction; readonly args: readonly unknown[]; readonly batchSize: number | null }
  /** Computed once; its partitions stay in the object store for later actions (Dataset.cache). */
  | { readonly kind: 'cache'; readonly id: number; readonly input: PlanNode; readonly state: CacheState }
  | { readonly kind: 'limit'; readonly id: number; readonly input: PlanNode; readonly n: number }
  | { readonly kind: 'union'; readonly id: number; readonly inputs: readonly PlanNode[] }
  | { readonly kind: 'distinct'; readonly id: number; readonly input: PlanNode; readonly columns: readonly string[] | null }
  | { readonly kind: 'sort'; readonly id: number; readonly input: PlanNode; readonly keys: readonly SortKey[] }
  | { readonly kind: 'repartition'; readonly id: number; readonly input: PlanNode; readonly n: number; readonly columns: readonly string[] | null }
  | { readonly kind: 'aggregate'; readonly id: number; readonly input: PlanNode; readonly keys: readonly string[]; readonly aggs: readonly AggSpec[] }
  | { readonly kind: 'join'; readonly id: number; readonly left: PlanNode; readonly right: PlanNode; readonly on: JoinOn; readonly how: JoinType }
  /** Window columns sharing one partitioning: hash-shuffled by `partitionBy`, then computed per partition. */
  | { readonly kind: 'window'; readonly id: number; readonly input: PlanNode; readonly partitionBy: readonly string[]; readonly columns: readonly WindowColumnSpec[] }
  /** Physical: a source read with fused operators, pushed-down columns and filters. */
  | {
      readonly kind: 'scan';
      readonly id: number;
      readonly source: SourceSpec;
      /** The source node this scan reads (its resolution is cached by id). */
      readonly sourceId: number;
      readonly ops: readonly NarrowOp[];
      /** Columns to read (projection pushdown); null = all. */
      readonly columns: readonly string[] | null;
      /** Conjuncts used to skip row groups / files / push into SQL (they are still evaluated in `ops`). */
      readonly pushed: readonly ExprNode[];
    }
  /** Physical: fused narrow operators over the input's partitions. */
  | { readonly kind: 'map'; readonly id: number; readonly input: PlanNode; readonly ops: readonly NarrowOp[] };

export function children(node: PlanNode): PlanNode[] {
  switch (node.kind) {
    case 'source':
    case 'scan':
      return [];
    case 'union':
      return [...node.inputs];
    case 'join':
      return [node.left, node.right];
    default:
      return [node.input];
  }
}
