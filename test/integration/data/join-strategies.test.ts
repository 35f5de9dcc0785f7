/**
 * Join strategies on a real cluster, each result compared with DuckDB over the same rows: column
 * pruning through every join type (pruned keys, columns used after the join, suffixed names), the
 * broadcast choice from measured Arrow bytes on either side, broadcast joins fused into the tasks of
 * a shuffle or of another broadcast join, and bad input.
 */
import type * as arrow from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agg, col, InvalidOptionError, fromArrow, UnknownColumnError, type Dataset } from 'shoal/data';
import { TestCluster } from '../../harness/test-cluster.js';
import { Duck, arrowRows, expectSameRows, genColumns, sortedRows, toArrow, unevenPartitions } from './helpers.js';

let tc: TestCluster;
let duck: Duck;
let ds: Dataset;
let other: Dataset;
let third: Dataset;
let bigBytes = 0;
let smallBytes = 0;

const JOINS = ['inner', 'left', 'right', 'full', 'semi', 'anti'] as const;
const SQL_JOIN = { inner: 'JOIN', left: 'LEFT JOIN', right: 'RIGHT JOIN', full: 'FULL JOIN' } as const;

beforeAll(async () => {
  tc = await TestCluster.start({ numCpus: 2 });
  duck = await Duck.open();
  const bigCols = genColumns(3000, 7);
  const smallCols = genColumns(40, 11, 25).map((c) => (c.name === 'x' ? { ...c, name: 'y' } : c));
  const thirdCols = genColumns(30, 13, 500).map((c) => (c.name === 'k' ? { ...c, name: 'i' } : c.name === 'i' ? { ...c, name: 'z' } : c.name === 's' ? { ...c, name: 'label' } : { ...c, name: 'w' }));
  const big: arrow.Table = toArrow(bigCols);
  const small: arrow.Table = toArrow(smallCols);
  await duck.load('t', bigCols);
  await duck.load('u', smallCols);
  await duck.load('v', thirdCols);
  ds = fromArrow(unevenPartitions(big, [0, 700, 700, 1900, 2950]));
  other = fromArrow(unevenPartitions(small, [10, 10, 30]));
  third = fromArrow(toArrow(thirdCols));
  const sizes = async (d: Dataset): Promise<number> => {
    await d.collect();
    return d.stats().stages.reduce((s, st) => s + st.bytes, 0);
  };
  bigBytes = await sizes(ds.withOptions({}));
  smallBytes = await sizes(other.withOptions({}));
});

afterAll(async () => {
  duck?.close();
  await tc?.stop();
});

const rows = async (d: Dataset): Promise<unknown[][]> => arrowRows(await d.collect());
const events = (d: Dataset): string => d.lastExecution().events.join('\n');
const paths = (d: Dataset): Dataset[] => [d, d.withOptions({ broadcastThresholdBytes: 0, shufflePartitions: 3 })];

describe('column pruning through joins equals DuckDB', () => {
  for (const how of JOINS) {
    it(`${how}: a subset of columns (a suffixed right column whose left namesake is pruned, no key), on both paths`, async () => {
      const semi = how === 'semi' || how === 'anti';
      const sql = semi
        ? `SELECT t.x, t.s FROM t WHERE ${how === 'anti' ? 'NOT ' : ''}EXISTS (SELECT 1 FROM u WHERE u.k = t.k)`
        : `SELECT u.i, t.x FROM t ${SQL_JOIN[how]} u ON t.k = u.k`;
      const expected = sortedRows(await duck.rows(sql));
      for (const d of paths(ds.join(other, 'k', how).select(...(semi ? ['x', 's'] : ['i_right', 'x'])))) {
        const got = await d.collect();
        expect(got.schema.fields.map((f) => f.name)).toEqual(semi ? ['x', 's'] : ['i_right', 'x']);
        expectSameRows(sortedRows(arrowRows(got)), expected, true);
      }
    });

    it(`${how}: count, and a filter on a column of the other side after the join`, async () => {
      const semi = how === 'semi' || how === 'anti';
      const from = semi ? `t WHERE ${how === 'anti' ? 'NOT ' : ''}EXISTS (SELECT 1 FROM u WHERE u.k = t.k)` : `t ${SQL_JOIN[how]} u ON t.k = u.k`;
      const [[n]] = (await duck.rows(`SELECT count(*) FROM ${from}`)) as [[number]];
      const [[m]] = (await duck.rows(`SELECT count(*) FROM ${from} ${semi ? 'AND t.i > 0' : 'WHERE u.y > 0'}`)) as [[number]];
      for (const d of paths(ds.join(other, 'k', how))) expect(await d.count()).toBe(Number(n));
      for (const d of paths(ds.join(other, 'k', how).filter(col(semi ? 'i' : 'y').gt(0)))) expect(await d.count()).toBe(Number(m));
    });
  }

  it('a shared key column used after the join (coalesced from both sides in a full join)', async () => {
    const expected = sortedRows(await duck.rows('SELECT coalesce(t.k, u.k) AS k, u.y FROM t FULL JOIN u ON t.k = u.k'));
    for (const d of paths(ds.join(other, 'k', 'full').select('k', 'y'))) expectSameRows(sortedRows(await rows(d)), expected, true);
  });
});

describe('broadcast choice from measured Arrow bytes', () => {
  it('the measured sizes are what the threshold compares', () => {
    expect(smallBytes).toBeGreaterThan(0);
    expect(bigBytes).toBeGreaterThan(10 * smallBytes);
  });

  it('broadcasts the right side of inner, left, semi and anti joins when it fits, else shuffles', async () => {
    for (const how of ['inner', 'left', 'semi', 'anti'] as const) {
      const d = ds.join(other, 'k', how);
      await d.count();
      expect(events(d)).toMatch(/broadcast right side \(40 rows, \d+ bytes\)/);
      const tight = ds.join(other, 'k', how).withOptions({ broadcastThresholdBytes: 1 });
      await tight.count();
      expect(events(tight)).toMatch(/shuffle hash/);
    }
  });

  it('broadcasts the left side of right and inner joins when it is the small one', async () => {
    for (const how of ['inner', 'right'] as const) {
      const sql = `SELECT coalesce(u.k, t.k), u.s, u.y, u.i, t.s, t.x, t.i FROM u ${SQL_JOIN[how]} t ON u.k = t.k`;
      const d = other.join(ds, 'k', how);
      expectSameRows(sortedRows(await rows(d)), sortedRows(await duck.rows(sql)), true);
      expect(events(d)).toMatch(/broadcast left side \(40 rows/);
    }
  });

  it('a threshold between the two sides broadcasts only the smaller; a full join always shuffles', async () => {
    const between = Math.floor((smallBytes + bigBytes) / 2);
    const d = ds.join(other, 'k', 'inner').withOptions({ broadcastThresholdBytes: between });
    await d.count();
    expect(events(d)).toMatch(/broadcast right side/);
    const swapped = other.join(ds, 'k', 'left').withOptions({ broadcastThresholdBytes: between });
    await swapped.collect();
    // A left join can broadcast only its right side, here the big one: over the threshold...
    expect(events(swapped)).toMatch(/shuffle hash/);
    // ... unless the columns read are so few that the pruned side fits (a count reads only the key).
    await swapped.count();
    expect(events(swapped)).toMatch(/broadcast right side \(3000 rows/);
    const full = ds.join(other, 'k', 'full').withOptions({ broadcastThresholdBytes: 2 ** 40 });
    await full.count();
    expect(events(full)).toMatch(/shuffle hash/);
  });

  it('chained broadcast joins run in one pass over the big side and equal DuckDB', async () => {
    const d = ds.join(other.select('k', 'y'), 'k').join(third.select('i', 'label', 'z'), 'i', 'left');
    const sql = 'SELECT t.i, t.k, t.s, t.x, u.y, v.label, v.z FROM t JOIN u ON t.k = u.k LEFT JOIN v ON t.i = v.i';
    expectSameRows(sortedRows(await rows(d)), sortedRows(await duck.rows(sql)), true);
    expect(events(d).match(/broadcast right side/g)).toHaveLength(2);
    const stages = d.stats().stages.map((s) => s.label);
    expect(stages.filter((l) => l.includes('join inner (broadcast) + join left (broadcast)'))).toHaveLength(1);
    expect(await d.count()).toBe(Number(((await duck.rows(`SELECT count(*) FROM (${sql})`)) as [[number]])[0][0]));
  });

  it('a broadcast join fused into the reduce tasks of a shuffle (groupBy, then join)', async () => {
    const d = ds.groupBy('k').agg(agg.count(undefined, 'n'), agg.sum('x', 'sx')).join(other.select('k', 'y'), 'k', 'left');
    const sql = 'SELECT g.k, g.n, g.sx, u.y FROM (SELECT k, count(*) AS n, sum(x) AS sx FROM t GROUP BY k) g LEFT JOIN u ON g.k = u.k';
    expectSameRows(sortedRows(await rows(d)), sortedRows(await duck.rows(sql)), true);
    expect(events(d)).toMatch(/broadcast right side/);
  });
});

describe('bad input', () => {
  it('joining on a column one side lacks names the columns it has, as the plan is built', () => {
    for (const [build, side] of [
      [() => ds.join(other.drop('k'), 'k'), ['s', 'y', 'i']],
      [() => ds.join(other, { left: ['nope'], right: ['k'] }), ['k', 's', 'x', 'i']],
    ] as const) {
      let err: unknown;
      try {
        build();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UnknownColumnError);
      expect((err as Error).message).toMatch(/^join\(on /);
      for (const c of side) expect((err as Error).message).toContain(`"${c}"`);
    }
  });

  it('a bad broadcastThresholdBytes is a typed error naming the option', () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      expect(() => ds.join(other, 'k').withOptions({ broadcastThresholdBytes: bad })).toThrow(InvalidOptionError);
      expect(() => ds.join(other, 'k').withOptions({ broadcastThresholdBytes: bad })).toThrow(`options.broadcastThresholdBytes must be a non-negative integer; got ${bad}`);
    }
  });
});
