/**
 * The filter expression of `searchRuns`, parsed once into a predicate over a run:
 *
 *   metrics.ndcg > 0.1 and params.rank = '16' and (tags.stage = 'prod' or status != 'FAILED')
 *
 * Operands: `metrics.<key>` (a run's latest value, compared as a number), `params.<key>` and
 * `tags.<key>` (strings), and the attributes `status`, `name`, `run_id`, `start_time`, `end_time`.
 * Keys with other characters go in backquotes (`` metrics.`val/rmse` ``). Comparisons `= != < <= > >=`,
 * joined by `and` / `or` (and binds tighter) and grouped by parentheses. A syntax error is a
 * {@link FilterSyntaxError} pointing at the bad token.
 */
import { FilterSyntaxError } from './errors.js';

/** What a filter is evaluated against. */
export interface FilterableRun {
  id: string;
  name: string;
  status: string;
  startTime: number;
  endTime: number | null;
  params: Readonly<Record<string, string>>;
  metrics: Readonly<Record<string, number>>;
  tags: Readonly<Record<string, string>>;
}

type Op = '=' | '!=' | '<' | '<=' | '>' | '>=';
type Operand = { kind: 'metrics' | 'params' | 'tags'; key: string } | { kind: 'attribute'; key: 'status' | 'name' | 'run_id' | 'start_time' | 'end_time' };
type Node = { type: 'cmp'; left: Operand; op: Op; value: string | number } | { type: 'and' | 'or'; a: Node; b: Node };

interface Token {
  kind: 'word' | 'string' | 'number' | 'op' | '(' | ')' | '.' | 'end';
  text: string;
  at: number;
}

const ATTRIBUTES = ['status', 'name', 'run_id', 'start_time', 'end_time'] as const;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === '(' || c === ')' || c === '.') {
      out.push({ kind: c, text: c, at });
      i++;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      let text = '';
      while (j < src.length && src[j] !== c) text += src[j++];
      if (j >= src.length) throw new FilterSyntaxError(src, at, src.slice(at), `a closing ${c}`);
      out.push({ kind: c === '`' ? 'word' : 'string', text, at });
      i = j + 1;
    } else if (/[<>=!]/.test(c)) {
      const two = src.slice(i, i + 2);
      const op = ['<=', '>=', '!=', '<>'].includes(two) ? two : c;
      if (op === '!') throw new FilterSyntaxError(src, at, c, 'a comparison (= != < <= > >=)');
      out.push({ kind: 'op', text: op === '<>' ? '!=' : op, at });
      i += op.length;
    } else if (/[-+0-9]/.test(c) && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.test(src.slice(i)) && out[out.length - 1]?.kind === 'op') {
      const m = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(src.slice(i))!;
      out.push({ kind: 'number', text: m[0], at });
      i += m[0].length;
    } else if (/[A-Za-z0-9_]/.test(c)) {
      let j = i;
      while (j < src.length && /[A-Za-z0-9_\-/]/.test(src[j]!)) j++;
      out.push({ kind: 'word', text: src.slice(i, j), at });
      i = j;
    } else {
      throw new FilterSyntaxError(src, at, c, 'a name, a value, a comparison, and/or or a parenthesis');
    }
  }
  out.push({ kind: 'end', text: '', at: src.length });
  return out;
}

/** Parses `filter`; throws {@link FilterSyntaxError} at the first bad token. */
export function parseRunFilter(filter: string): (run: FilterableRun) => boolean {
  if (filter.trim() === '') return () => true;
  const tokens = tokenize(filter);
  let pos = 0;
  const peek = (): Token => tokens[pos]!;
  const fail = (expected: string): never => {
    const t = peek();
    throw new FilterSyntaxError(filter, t.at, t.text, expected);
  };
  const isWord = (t: Token, w: string): boolean => t.kind === 'word' && t.text.toLowerCase() === w;

  const operand = (): Operand => {
    const t = peek();
    if (t.kind !== 'word') return fail('metrics.<key>, params.<key>, tags.<key> or an attribute (status, name, run_id, start_time, end_time)');
    pos++;
    const prefix = t.text.toLowerCase();
    const kind = ({ metrics: 'metrics', metric: 'metrics', params: 'params', param: 'params', tags: 'tags', tag: 'tags' } as const)[prefix as 'metrics'];
    if (kind !== undefined && peek().kind === '.') {
      pos++;
      const key = peek();
      if (key.kind !== 'word') return fail(`a ${kind} key after '${t.text}.'`);
      pos++;
      let name = key.text;
      // Dotted keys (metrics.test.ndcg): the key runs on through '.word' pairs.
      while (peek().kind === '.' && tokens[pos + 1]?.kind === 'word') {
        name += `.${tokens[pos + 1]!.text}`;
        pos += 2;
      }
      return { kind, key: name };
    }
    const attr = prefix === 'attributes' || prefix === 'attribute' ? (peek().kind === '.' ? (pos++, peek()) : fail("'.' after attributes")) : t;
    if (attr !== t) pos++;
    const name = attr.text.toLowerCase() as (typeof ATTRIBUTES)[number];
    if (!ATTRIBUTES.includes(name)) {
      pos--;
      return fail('metrics.<key>, params.<key>, tags.<key> or an attribute (status, name, run_id, start_time, end_time)');
    }
    return { kind: 'attribute', key: name };
  };

  const comparison = (): Node => {
    if (peek().kind === '(') {
      pos++;
      const inner = or();
      if (peek().kind !== ')') fail("')'");
      pos++;
      return inner;
    }
    const left = operand();
    const op = peek();
    if (op.kind !== 'op') return fail('a comparison (= != < <= > >=)');
    pos++;
    const v = peek();
    const numeric = left.kind === 'metrics' || (left.kind === 'attribute' && (left.key === 'start_time' || left.key === 'end_time'));
    if (numeric) {
      if (v.kind !== 'number') return fail(`a number to compare ${left.kind === 'metrics' ? `metrics.${left.key}` : left.key} with`);
    } else if (v.kind !== 'string') {
      return fail(`a quoted string to compare ${left.kind === 'attribute' ? left.key : `${left.kind}.${left.key}`} with (e.g. '16')`);
    }
    pos++;
    return { type: 'cmp', left, op: op.text as Op, value: numeric ? Number(v.text) : v.text };
  };

  const and = (): Node => {
    let node = comparison();
    while (isWord(peek(), 'and')) {
      pos++;
      node = { type: 'and', a: node, b: comparison() };
    }
    return node;
  };
  const or = (): Node => {
    let node = and();
    while (isWord(peek(), 'or')) {
      pos++;
      node = { type: 'or', a: node, b: and() };
    }
    return node;
  };

  const root = or();
  if (peek().kind !== 'end') fail("'and', 'or' or the end of the filter");
  return (run) => evaluate(root, run);
}

function valueOf(o: Operand, run: FilterableRun): string | number | undefined | null {
  switch (o.kind) {
    case 'metrics': return run.metrics[o.key];
    case 'params': return run.params[o.key];
    case 'tags': return run.tags[o.key];
    case 'attribute':
      return o.key === 'status' ? run.status : o.key === 'name' ? run.name : o.key === 'run_id' ? run.id : o.key === 'start_time' ? run.startTime : run.endTime;
  }
}

function evaluate(n: Node, run: FilterableRun): boolean {
  if (n.type !== 'cmp') return n.type === 'and' ? evaluate(n.a, run) && evaluate(n.b, run) : evaluate(n.a, run) || evaluate(n.b, run);
  const v = valueOf(n.left, run);
  if (v === undefined || v === null) return false; // a run without the key matches no comparison
  const w = n.value;
  switch (n.op) {
    case '=': return v === w;
    case '!=': return v !== w;
    case '<': return v < w;
    case '<=': return v <= w;
    case '>': return v > w;
    case '>=': return v >= w;
  }
}
