/**
 * The API reference: every public export has a doc comment, TypeDoc builds it with no warning
 * (typedoc.json treats warnings as errors, undocumented members included), and docs/api/ is what
 * `npm run docs` writes from the current doc comments.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..', '..');

/** The exports of lib/index.ts with no doc comment on their declaration. */
function undocumentedExports(): string[] {
  const program = ts.createProgram([path.join(root, 'lib', 'index.ts')], { strict: true, types: ['node'] });
  const checker = program.getTypeChecker();
  const index = program.getSourceFile(path.join(root, 'lib', 'index.ts'));
  if (index === undefined) throw new Error('lib/index.ts not found');
  const moduleSymbol = checker.getSymbolAtLocation(index);
  if (moduleSymbol === undefined) throw new Error('lib/index.ts is not a module');
  const missing: string[] = [];
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const documented = (symbol.getDeclarations() ?? []).some((d) => ts.getJSDocCommentsAndTags(d).length > 0);
    if (!documented) missing.push(exported.getName());
  }
  return missing;
}

function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe('API reference', () => {
  it('every public export has a doc comment', () => {
    expect(undocumentedExports()).toEqual([]);
  });

  it('the check sees a missing comment', () => {
    // Guards the check itself: a declaration with no comment must be reported.
    const file = path.join(os.tmpdir(), `iomux-doc-${process.pid}.ts`);
    fs.writeFileSync(file, '/** Documented. */\nexport const a = 1;\nexport const b = 2;\n');
    try {
      const program = ts.createProgram([file], {});
      const checker = program.getTypeChecker();
      const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
      const bare = checker
        .getExportsOfModule(moduleSymbol)
        .filter((s) => !(s.getDeclarations() ?? []).some((d) => ts.getJSDocCommentsAndTags(d).length > 0))
        .map((s) => s.getName());
      expect(bare).toEqual(['b']);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it('TypeDoc builds it with no warning, and docs/api/ is up to date (else: npm run docs)', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-typedoc-'));
    try {
      const run = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', out], {
        cwd: root,
        encoding: 'utf8',
      });
      expect(run.stdout + run.stderr).not.toMatch(/\[warning\]|\[error\]/);
      expect(run.status).toBe(0);
      const committed = path.join(root, 'docs', 'api');
      expect(listFiles(out)).toEqual(listFiles(committed));
      for (const f of listFiles(out)) {
        expect(fs.readFileSync(path.join(out, f), 'utf8'), `docs/api/${f} differs: run npm run docs`).toBe(
          fs.readFileSync(path.join(committed, f), 'utf8'),
        );
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);
});
