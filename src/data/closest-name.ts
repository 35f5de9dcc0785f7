/**
 * "Did you mean ...?" for a name that is not there: the candidate nearest by edit distance
 * (Levenshtein, case differences counting half), when it is near enough to be a slip of the keyboard
 * rather than another name (Spark's analyzer suggests columns the same way).
 */

/** Edit distance between `a` and `b`, a substitution that only changes case costing 0.5. */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      const xi = x[i - 1]!;
      const yj = y[j - 1]!;
      const sub = xi === yj ? 0 : xi.toLowerCase() === yj.toLowerCase() ? 0.5 : 1;
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + sub));
    }
    prev = cur;
  }
  return prev[y.length]!;
}

/** The candidate closest to `name`, if within max(2, a third of its length) edits; ties go to the first. */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor([...name].length / 3));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestDistance && d <= limit) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}
