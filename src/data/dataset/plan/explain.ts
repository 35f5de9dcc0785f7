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

/** `(a > 3)` → `a > 3`: one pair of parentheses around the whole rendering adds nothing in a call. */
function bare(text: string): string {
  if (!text.startsWith('(') || !text.endsWith(')')) return text;
  let depth = 0;
  for (let i = 0; i < text.length - 1; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    if (depth === 0) return text; // the first parenthesis closes before the end
  }
  return text.slice(1, -1);
}

const quoted = (names: readonly string[]): string => names.map((n) => `'${n}'`).join(', ');

/** A narrow operator as the Dataset call that made it (`filter(price > 3)`), for error messages. */
export function opCallText(op: NarrowOp): string {
  switch (op.op) {
    case 'select':
      return `select(${op.exprs.map((e) => bare(exprToString(e))).join(', ')})`;
    case 'withColumn':
      return `withColumn('${op.name}', ${bare(exprToString(op.expr))})`;
    case 'filter':
      return `filter(${bare(exprToString(op.predicate))})`;
    case 'drop':
      return `drop(${quoted(op.columns)})`;
    case 'rename':
      return `rename(${op.mapping.map(([a, b]) => `${a} → ${b}`).join(', ')})`;
    case 'sample':
      return 'sample()';
    case 'explode':
      return `${op.outer ? 'explodeOuter' : 'explode'}('${op.column}')`;
  }
}

/** A plan node (other than a narrow one: see opCallText) as the Dataset call that made it, for error messages. */
export function nodeCallText(n: PlanNode): string {
  switch (n.kind) {
    case 'aggregate': {
      const aggs = n.aggs.map((a) => `${a.op}(${a.column ?? '*'})${a.as !== undefined ? ` AS ${a.as}` : ''}`).join(', ');
      return n.keys.length > 0 ? `groupBy(${quoted(n.keys)}).agg(${aggs})` : `agg(${aggs})`;
    }
    case 'window':
      return n.columns.map((c) => `withColumn('${c.name}', ${windowFnText(c.fn)} OVER (${windowSpecText(c.spec)}))`).join(', ');
    case 'join':
      return `join(on ${typeof n.on === 'string' ? `'${n.on}'` : JSON.stringify(n.on)}, '${n.how}')`;
    case 'sort':
      return `sort(${n.keys.map((k) => `${k.column} ${k.ascending === false ? 'DESC' : 'ASC'}`).join(', ')})`;
    case 'distinct':
      return `distinct(${quoted(n.columns ?? [])})`;
    case 'repartition':
      return `repartition(${n.n}${n.columns ? `, ${quoted(n.columns)}` : ''})`;
    case 'mapBatches':
      return `mapBatches(${n.fn.name})`;
    case 'narrow':
    case 'map':
      return n.ops.map(opCallText).join('.');
    default:
      return nodeText(n);
  }
}
