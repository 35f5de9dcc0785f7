/** Prints results as a fixed-width table on stdout. */
import type { BenchResult } from './result.js';

/** Compact human formatting: 3 significant digits for small numbers, grouping for big ones. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1000) return Math.round(n).toLocaleString('en-US');
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  if (a === 0) return '0';
  return n.toPrecision(3);
}

const spread = (lo: number, hi: number): string => `${fmt(lo)}–${fmt(hi)}`;

export function formatTable(results: BenchResult[]): string {
  const header = ['metric', 'value', 'spread (min–max)', 'unit', 'baseline', 'baseline value', 'ratio', 'target', 'met'];
  const rows = results.map((r) => [
    r.metric,
    fmt(r.value),
    spread(r.min, r.max),
    r.unit,
    r.baseline,
    `${fmt(r.baselineValue)} (${spread(r.baselineMin, r.baselineMax)})`,
    `${fmt(r.ratio)}${r.better === 'higher' ? ' ↑' : ' ↓'}`,
    r.target === null ? '—' : `${r.better === 'higher' ? '≥' : '≤'} ${fmt(r.target)}`,
    r.targetMet === null ? '' : r.targetMet ? '✓' : '✗',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  out.push(
    '',
    'ratio = value / baseline value; ↑ higher is better (ratio > 1 beats the baseline), ↓ lower is better (ratio < 1 beats it).',
  );
  return out.join('\n');
}

export function printTable(suite: string, results: BenchResult[], runs: number): void {
  process.stdout.write(`\n${suite}: median of ${runs} runs\n\n${formatTable(results)}\n`);
}
