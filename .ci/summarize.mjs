// Reads vitest's JSON report (.ci/results.json) and prints, last, the line CI reads:
//   N passed, N failed, N skipped
// Every skipped test is listed with its reason: the test's meta.skipReason (test/harness/skip.ts) or
// a "(skipped: <reason>)" in its title or a suite's title (test/integration/multihost/support.ts).
// A skip that names no reason counts as a failure: CI must never skip silently.
// A file that fails to load has no test results of its own: it counts as one failure.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const report = JSON.parse(readFileSync(process.argv[2] ?? '.ci/results.json', 'utf8'));
const REASON = /\(skipped: ([^)]*)\)/;
let passed = 0;
let failed = 0;
let skipped = 0;
const unexplained = [];
const lines = [];
for (const file of report.testResults ?? []) {
  const tests = file.assertionResults ?? [];
  if (file.status === 'failed' && !tests.some((t) => t.status === 'failed')) {
    failed++;
    lines.push(`failed to load: ${relative(process.cwd(), file.name)}: ${String(file.message).split('\n')[0]}`);
  }
  for (const t of tests) {
    if (t.status === 'passed') passed++;
    else if (t.status === 'failed') failed++;
    else if (t.status === 'skipped' || t.status === 'pending' || t.status === 'todo') {
      skipped++;
      const reason = t.meta?.skipReason ?? [...(t.ancestorTitles ?? []), t.title].map((s) => REASON.exec(s)?.[1]).find((r) => r !== undefined);
      const where = `${relative(process.cwd(), file.name)} > ${t.fullName}`;
      if (reason === undefined) unexplained.push(where);
      else lines.push(`skipped: ${where} — ${reason}`);
    }
  }
}
for (const u of unexplained) lines.push(`skipped WITHOUT A REASON (counted as failed): ${u}`);
failed += unexplained.length;
for (const l of lines) console.log(l);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 ? 1 : 0;
