/**
 * Column pruning through joins, on the optimizer's output (no cluster: the sources are in-memory
 * Arrow tables and range, whose schemas are known on the driver).
 */
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { col, fromArrow, range, type Dataset } from '../../../../src/data/index.js';
import { joinColumns } from '../../../../src/data/kernels/hash-join.js';
import { optimize } from '../../../../src/data/dataset/optimizer/optimize.js';
import type { PlanNode } from '../../../../src/data/dataset/plan/logical-plan.js';
import type { NarrowOp } from '../../../../src/data/dataset/plan/narrow-ops.js';
import { schemaOf } from '../../../../src/data/dataset/plan/plan-schema.js';

const t = fromArrow(
  new arrow.Table({
    k: arrow.vectorFromArray([1, 2, 3], new arrow.Int32()),
    s: arrow.vectorFromArray(['a', 'b', 'c']),
    x: arrow.vectorFromArray([1.5, 2.5, 3.5]),
    i: arrow.vectorFromArray([10, 20, 30], new arrow.Int32()),
  }),
);
const u = fromArrow(
  new arrow.Table({
    k: arrow.vectorFromArray([1, 3], new arrow.Int32()),
    s: arrow.vectorFromArray(['p', 'q']),
    y: arrow.vectorFromArray([7.0, 8.0]),
    i: arrow.vectorFromArray([5, 6], new arrow.Int32()),
  }),
);

const names = (s: arrow.Schema): string[] => s.fields.map((f) => f.name);

/** The join node of an optimized plan and the operators fused into each of its sides. */
function joinOf(p: PlanNode): { join: Extract<PlanNode, { kind: 'join' }>; above: readonly NarrowOp[] } {
  if (p.kind === 'join') return { join: p, above: [] };
  if (p.kind === 'map' && p.input.kind === 'join') return { join: p.input, above: p.ops };
  throw new Error(`no join at the top of ${p.kind}`);
}
const sideOps = (p: PlanNode): readonly NarrowOp[] => (p.kind === 'scan' || p.kind === 'map' ? p.ops : []);
const lastSelect = (p: PlanNode): string[] | null => {
  const last = sideOps(p).at(-1);
  return last?.op === 'select' ? last.exprs.map((e) => (e as { name: string }).name) : null;
};

async function optimized(d: Dataset, required: ReadonlySet<string> | null): Promise<PlanNode> {
  return optimize(d.plan, required);
}

describe('joinColumns', () => {
  it('names shared keys once, then left and right columns, suffixing taken right names', () => {
    expect(joinColumns(['k', 's', 'x', 'i'], ['k', 's', 'y', 'i'], 'k', 'inner').map((c) => c.out)).toEqual(['k', 's', 'x', 'i', 's_right', 'y', 'i_right']);
    expect(joinColumns(['k', 'a', 'a_right'], ['k', 'a'], 'k', 'left').map((c) => c.out)).toEqual(['k', 'a', 'a_right', 'a_right_right']);
    expect(joinColumns(['k', 's'], ['kk', 's'], { left: ['k'], right: ['kk'] }, 'inner').map((c) => `${c.side}:${c.name}->${c.out}`)).toEqual(['left:k->k', 'left:s->s', 'right:kk->kk', 'right:s->s_right']);
    expect(joinColumns(['k', 's'], ['k', 'y'], 'k', 'semi').map((c) => c.out)).toEqual(['k', 's']);
  });
});

describe('column pruning through joins', () => {
  it('a counted join keeps only the keys on each side and computes no unused column', async () => {
    const facts = range(1000, { numPartitions: 2 }).withColumn('k_low', col('id').mod(10)).withColumn('k_high', col('id').mod(100)).withColumn('v', col('id').mul(3));
    const dim = range(100).rename({ id: 'k_high' }).withColumn('w', col('k_high').mul(2));
    for (const how of ['inner', 'left', 'right', 'full', 'semi', 'anti'] as const) {
      const { join } = joinOf(await optimized(facts.join(dim, 'k_high', how), new Set()));
      expect(lastSelect(join.left)).toEqual(['k_high']);
      expect(lastSelect(join.right)).toEqual(['k_high']);
      const computed = [...sideOps(join.left), ...sideOps(join.right)].flatMap((o) => (o.op === 'withColumn' ? [o.name] : []));
      expect(computed).toEqual(['k_high']);
    }
  });

  it('keeps the key columns when the output drops them, and what is used after the join', async () => {
    const d = t.join(u, 'k').filter(col('y').gt(7)).select('x');
    const p = await optimized(d, null);
    expect(p.kind).toBe('map');
    const { join } = joinOf((p as Extract<PlanNode, { kind: 'map' }>).input);
    expect(lastSelect(join.left)).toEqual(['k', 'x']);
    expect(lastSelect(join.right)).toEqual(['k', 'y']);
    expect(names(await schemaOf(p))).toEqual(['x']);
  });

  it('restores the suffixed name of a right column whose left namesake was pruned', async () => {
    for (const how of ['inner', 'left', 'right', 'full'] as const) {
      const full = names(await schemaOf(t.join(u, 'k', how).plan));
      expect(full).toEqual(['k', 's', 'x', 'i', 's_right', 'y', 'i_right']);
      const p = await optimized(t.join(u, 'k', how), new Set(['i_right', 'x']));
      const { join, above } = joinOf(p);
      expect(lastSelect(join.left)).toEqual(['k', 'x']);
      expect(lastSelect(join.right)).toEqual(['k', 'i']);
      expect(above).toEqual([{ op: 'rename', mapping: [['i', 'i_right']] }]);
      expect(names(await schemaOf(p))).toEqual(['k', 'x', 'i_right']);
    }
  });

  it('semi and anti joins read only the keys of the right side', async () => {
    for (const how of ['semi', 'anti'] as const) {
      const { join } = joinOf(await optimized(t.join(u, 'k', how).select('s'), null).then((p) => (p as Extract<PlanNode, { kind: 'map' }>).input));
      expect(lastSelect(join.left)).toEqual(['k', 's']);
      expect(lastSelect(join.right)).toEqual(['k']);
    }
  });

  it('prunes nothing when every column is needed', async () => {
    const { join, above } = joinOf(await optimized(t.join(u, 'k'), null));
    expect(lastSelect(join.left)).toBeNull();
    expect(lastSelect(join.right)).toBeNull();
    expect(above).toEqual([]);
  });

  it('separate key lists: each side keeps its own keys', async () => {
    const d = t.join(u.rename({ k: 'kk' }), { left: ['k'], right: ['kk'] }).select('y');
    const { join } = joinOf(((await optimized(d, null)) as Extract<PlanNode, { kind: 'map' }>).input);
    expect(lastSelect(join.left)).toEqual(['k']);
    expect(lastSelect(join.right)).toEqual(['kk', 'y']);
  });
});
