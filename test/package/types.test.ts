/**
 * The type test: tsc on consumer code that imports iomux as a user's project does (through
 * node_modules/iomux and the package's exports), under the strictest common settings
 * (strict, noUncheckedIndexedAccess, exactOptionalPropertyTypes), in the three ways TypeScript
 * resolves a package: CommonJS with node10 resolution, CommonJS under node16 (.cts) and ES
 * modules under NodeNext (.mts). The consumer code is test/package/consumer.ts, the README's
 * JavaScript blocks (checked as JavaScript, with checkJs), the TypeScript programs of docs/ and
 * examples/*.ts (CommonJS, as tsx runs them, without noUncheckedIndexedAccess).
 * Needs dist/ (npm run build:ts).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeBlocks, root } from '../helpers/readme';

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
let project = '';

const STRICT = {
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  noEmit: true,
  target: 'ES2022',
  lib: ['ES2022'],
  types: ['node'],
  skipLibCheck: false,
};

/** The ```ts blocks of docs/*.md that are whole programs (they import from 'iomux'). */
function docsPrograms(): Array<[name: string, code: string]> {
  const out: Array<[string, string]> = [];
  for (const file of fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md'))) {
    const text = fs.readFileSync(path.join(root, 'docs', file), 'utf8');
    let i = 0;
    for (const m of text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
      const code = m[1] ?? '';
      if (/from 'iomux'/.test(code)) out.push([`${file.replace(/\.md$/, '')}-${i++}`, code]);
    }
  }
  return out;
}

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(project, file)), { recursive: true });
  fs.writeFileSync(path.join(project, file), text);
}

beforeAll(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-types-'));
  fs.mkdirSync(path.join(project, 'node_modules'));
  // The package as npm lays it out for a user, and Node's types, which its declarations use.
  fs.symlinkSync(root, path.join(project, 'node_modules', 'iomux'), 'dir');
  fs.symlinkSync(path.join(root, 'node_modules', '@types'), path.join(project, 'node_modules', '@types'), 'dir');
  write('package.json', JSON.stringify({ name: 'consumer', private: true }));
  const consumer = fs.readFileSync(path.join(__dirname, 'consumer.ts'), 'utf8');
  write('cjs/consumer.ts', consumer);
  write('cts/consumer.cts', consumer);
  write('esm/consumer.mts', consumer);
  readmeBlocks()
    .filter((b) => b.lang === 'js')
    .forEach((b, i) => write(`readme/block-${i}.mjs`, b.code));
  for (const file of fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.ts'))) {
    write(`examples/${file}`, fs.readFileSync(path.join(root, 'examples', file), 'utf8'));
  }
  for (const [name, code] of docsPrograms()) {
    write(`docs-cjs/${name}.ts`, `${code}\nexport {};\n`);
    write(`docs-esm/${name}.mts`, code);
  }
  const config = (options: object, include: string[]) => JSON.stringify({ compilerOptions: { ...STRICT, ...options }, include });
  write('tsconfig.cjs.json', config({ module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true }, ['cjs', 'docs-cjs']));
  write('tsconfig.cts.json', config({ module: 'node16', moduleResolution: 'node16' }, ['cts']));
  write('tsconfig.esm.json', config({ module: 'nodenext', moduleResolution: 'nodenext' }, ['esm', 'docs-esm']));
  // The examples as tsx runs them (CommonJS); strict, but their typed-array loops index freely.
  write('tsconfig.examples.json', config({ module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true, noUncheckedIndexedAccess: false }, ['examples']));
  write('tsconfig.readme.json', config({ module: 'nodenext', moduleResolution: 'nodenext', allowJs: true, checkJs: true }, ['readme']));
});

/** Runs tsc in the consumer project; resolves with its exit code and output. */
function tscRun(args: string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [tsc, ...args], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('close', (status) => resolve({ status, out }));
  });
}

const CONFIGS = ['cjs', 'cts', 'esm', 'readme', 'examples'] as const;
let results: Record<string, { status: number | null; out: string }> = {};

beforeAll(async () => {
  // The four programs are independent: check them at once.
  const runs = await Promise.all(CONFIGS.map((name) => tscRun(['-p', `tsconfig.${name}.json`])));
  results = Object.fromEntries(CONFIGS.map((name, i) => [name, runs[i]!]));
}, 300_000);

afterAll(() => {
  if (project !== '') fs.rmSync(project, { recursive: true, force: true });
});

describe('types as a consumer sees them', () => {
  it.each(CONFIGS)('tsc -p tsconfig.%s.json reports nothing', (name) => {
    expect(results[name]?.out).toBe('');
    expect(results[name]?.status).toBe(0);
  });

  it('covers the README blocks and the docs programs', () => {
    expect(fs.readdirSync(path.join(project, 'readme')).length).toBeGreaterThanOrEqual(3);
    expect(docsPrograms().map(([name]) => name)).toContain('sockets-0');
  });

  it('resolves import to the ESM declarations and require to the CommonJS ones', async () => {
    // --listFilesOnly resolves without checking: the trace says which file each import reached.
    const trace = async (name: string): Promise<string> =>
      (await tscRun(['-p', `tsconfig.${name}.json`, '--listFilesOnly', '--traceResolution'])).out;
    expect(await trace('esm')).toMatch(/Module name 'iomux' was successfully resolved to '[^']*dist\/lib\/index\.d\.mts'/);
    expect(await trace('cts')).toMatch(/Module name 'iomux' was successfully resolved to '[^']*dist\/lib\/index\.d\.ts'/);
    expect(await trace('cjs')).toMatch(/Module name 'iomux' was successfully resolved to '[^']*dist\/lib\/index\.d\.ts'/);
  }, 120_000);
});
