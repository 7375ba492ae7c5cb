// Prints vitest's JSON report as the one line CI reads: "N passed, N failed, N skipped", last;
// before it, one line per failed test (file > name: the error folded onto one line, up to 600
// characters: an assertion's own message comes before vitest's "expected" line, and a first
// line alone lost it), so that a red run says what failed without the whole log.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const file = process.argv[2] || '.vitest-report.json';

/** An error message on one line: colours, blank lines and stack frames dropped, lines joined with " | ". */
function oneLine(message) {
  return String(message ?? '')
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('at '))
    .join(' | ')
    .slice(0, 600);
}
let report;
try {
  report = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch (err) {
  console.log(`0 passed, 1 failed (no vitest report at ${file}: ${err.message})`);
  process.exit(1);
}
// A file that failed without a failed test (an import error, a crash) counts once; vitest's
// numFailedTestSuites would also count every describe() around a failed test.
let fileErrors = 0;
for (const suite of report.testResults ?? []) {
  const where = path.relative(process.cwd(), suite.name ?? '?');
  const failedTests = (suite.assertionResults ?? []).filter((t) => t.status === 'failed');
  for (const t of failedTests) {
    const why = oneLine((t.failureMessages ?? [])[0]);
    console.log(`FAILED ${where} > ${t.fullName ?? t.title}: ${why}`);
  }
  if (suite.status === 'failed' && failedTests.length === 0) {
    fileErrors += 1;
    console.log(`FAILED ${where}: ${oneLine(suite.message)}`);
  }
}
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0) + fileErrors;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
