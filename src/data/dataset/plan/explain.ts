/** Text rendering of plans for `Dataset.explain()`. */
import { exprToString } from '../../expr/expr-node.js';
import { windowFnText, windowSpecText } from '../../expr/window.js';
import { aggOutputName } from '../../kernels/aggregate.js';
import type { SourceSpec } from '../sources/source-options.js';
import { children, type PlanNode } from './logical-plan.js';
import type { NarrowOp } from './narrow-ops.js';

function sourceText(s: SourceSpec): string {
  switch (s.type) {
    case 'arrow':
      return `Arrow[${s.partitions.length} tables]`;
    case 'range':
      return `Range[n=${s.n}, partitions=${s.numPartitions}]`;
    case 'csv':
    case 'json':
    case 'parquet':
      return `${s.type.toUpperCase()}[${typeof s.paths === 'string' ? s.paths : s.paths.join(', ')}]`;
    case 'postgres':
      return `PostgreSQL[${s.options.table ?? `(${s.options.query ?? ''})`}, partitions=${s.options.numPartitions ?? 1}]`;
  }
}

export function opText(op: NarrowOp): string {
  switch (op.op) {
    case 'select':
      return `Select(${op.exprs.map(exprToString).join(', ')})`;
    case 'withColumn':
      return `WithColumn(${op.name} = ${exprToString(op.expr)})`;
    case 'filter':
      return `Filter(${exprToString(op.predicate)})`;
    case 'drop':
      return `Drop(${op.columns.join(', ')})`;
    case 'rename':
      return `Rename(${op.mapping.map(([a, b]) => `${a} → ${b}`).join(', ')})`;
    case 'sample':
      return `Sample([${op.lo}, ${op.hi}), seed=${op.seed})`;
    case 'explode':
      return `${op.outer ? 'ExplodeOuter' : 'Explode'}(${op.column})`;
  }
}

function nodeText(n: PlanNode): string {
  switch (n.kind) {
    case 'source':
      return sourceText(n.source);
    case 'narrow':
      return n.ops.map(opText).join(' → ');
    case 'mapBatches':
      return `MapBatches(${n.fn.name}${n.batchSize !== null ? `, batchSize=${n.batchSize}` : ''}${n.args.length > 0 ? `, ${n.args.length} args` : ''})`;
    case 'cache':
      return n.state.refs === null ? 'Cache(not computed yet)' : `Cache(${n.state.refs.length} partitions in the object store)`;
    case 'limit':
      return `Limit(${n.n})`;
    case 'union':
      return 'Union';
    case 'distinct':
      return `Distinct(${n.columns?.join(', ') ?? '*'})`;
    case 'sort':
      return `Sort(${n.keys.map((k) => `${k.column} ${k.ascending === false ? 'DESC' : 'ASC'}`).join(', ')})`;
    case 'repartition':
      return `Repartition(${n.n}${n.columns ? `, hash(${n.columns.join(', ')})` : ', round robin'})`;
    case 'aggregate':
      return `Aggregate(keys=[${n.keys.join(', ')}], ${n.aggs.map(aggOutputName).join(', ')})`;
    case 'window':
      return `Window(partitionBy=[${n.partitionBy.join(', ')}], ${n.columns.map((c) => `${c.name} = ${windowFnText(c.fn)} OVER (${windowSpecText(c.spec)})`).join(', ')})`;
    case 'join':
      return `Join(${n.how}, on=${JSON.stringify(n.on)})`;
    case 'scan':
      return (
        `Scan ${sourceText(n.source)}` +
        (n.columns ? ` columns=[${n.columns.join(', ')}]` : '') +
        (n.pushed.length ? ` pushedFilters=[${n.pushed.map(exprToString).join(', ')}]` : '') +
        (n.ops.length ? ` fused=[${n.ops.map(opText).join(' → ')}]` : '')
      );
    case 'map':
      return `FusedMap[${n.ops.map(opText).join(' → ')}]`;
  }
}

export function planToString(node: PlanNode, indent = ''): string {
  const lines = [`${indent}${nodeText(node)}`];
  for (const c of children(node)) lines.push(planToString(c, `${indent}  `));
  return lines.join('\n');
}
