// Prints vitest's JSON reports as the one line CI reads: "N passed, N failed, N skipped", last,
// summed over the reports given (CI: the plain suite, then the same suite under ASan+UBSan, so
// a test counts once per pass). Before it, one line per failed test (pass: file > name: the
// error folded onto one line, up to 600 characters: an assertion's own message comes before
// vitest's "expected" line, and a first line alone lost it), so that a red run says what failed
// without the whole log. Usage: summary.cjs [label=]report.json ...
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const args = process.argv.length > 2 ? process.argv.slice(2) : ['.vitest-report.json'];

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

/** One report's counts, its failures printed (prefixed with its label when there are several). */
function summarize(arg) {
  const eq = arg.indexOf('=');
  const label = eq > 0 ? arg.slice(0, eq) : '';
  const file = eq > 0 ? arg.slice(eq + 1) : arg;
  const tag = args.length > 1 && label ? `${label}: ` : '';
  let report;
  try {
    report = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    console.log(`FAILED ${tag}no vitest report at ${file}: ${err.message}`);
    return { passed: 0, failed: 1, skipped: 0 };
  }
  // A file that failed without a failed test (an import error, a crash) counts once; vitest's
  // numFailedTestSuites would also count every describe() around a failed test.
  let fileErrors = 0;
  for (const suite of report.testResults ?? []) {
    const where = path.relative(process.cwd(), suite.name ?? '?');
    const failedTests = (suite.assertionResults ?? []).filter((t) => t.status === 'failed');
    for (const t of failedTests) {
      console.log(`FAILED ${tag}${where} > ${t.fullName ?? t.title}: ${oneLine((t.failureMessages ?? [])[0])}`);
    }
    if (suite.status === 'failed' && failedTests.length === 0) {
      fileErrors += 1;
      console.log(`FAILED ${tag}${where}: ${oneLine(suite.message)}`);
    }
  }
  return {
    passed: report.numPassedTests ?? 0,
    failed: (report.numFailedTests ?? 0) + fileErrors,
    skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
  };
}

const total = { passed: 0, failed: 0, skipped: 0 };
let empty = false;
for (const arg of args) {
  const r = summarize(arg);
  total.passed += r.passed;
  total.failed += r.failed;
  total.skipped += r.skipped;
  empty ||= r.passed === 0;
}
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 || empty ? 1 : 0);
