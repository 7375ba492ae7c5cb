/**
 * Every code block of the README runs as written. JavaScript blocks are saved as .mjs files
 * inside this package (so `import ... from 'iomux'` resolves to it by the package's own name, as
 * it resolves to node_modules/iomux for a user) and run with `node`, once per backend this
 * machine has. Shell blocks of the Examples section run line by line with bash from the
 * repository root, as from a clone, with each fixed port number replaced by one the kernel
 * picked (tests never use fixed ports); a line that starts a server runs in the background until
 * it prints its address. The Install block needs the packed tarball: test/package/install.test.ts
 * runs it in an empty project. The programs in docs/*.md (blocks that import iomux) run too.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { availableBackends, canUse } from '../../lib/selectors/default';
import { freePort, readmeBlocks, root, shellCommands } from '../helpers/readme';

const blocks = readmeBlocks();
const dir = fs.mkdtempSync(path.join(__dirname, '.readme-run-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What each program prints, by the heading it sits under; a block not listed must exit 0 quietly. */
const EXPECTED: Array<[heading: RegExp, output: RegExp[]]> = [
  [/^A first program/, [/^echo server on 127\.0\.0\.1:\d+ with (\w+)$/m, /^client got hello$/m]],
  [/^The synchronous loop/, [/^ping$/m]],
  [/^The raw layer/, [/^\[ \[ \d+, 1 \] \]$/m, /^1 true true$/m]],
];

describe('README', () => {
  it('stays at most 20 KB, with the headings other sections link to', () => {
    const text = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(20 * 1024);
    for (const heading of ['Install', 'Errors, timeouts and signals', 'Servers', 'Benchmark']) {
      expect(text).toMatch(new RegExp(`^## ${heading}$`, 'm'));
    }
  });
});

describe('README JavaScript blocks', () => {
  const js = blocks.filter((b) => b.lang === 'js');

  it('has the first program, the synchronous loop and the raw layer', () => {
    for (const [heading] of EXPECTED) expect(js.some((b) => heading.test(b.heading)), String(heading)).toBe(true);
  });

  it.each(js.flatMap((b, i) => availableBackends().map((backend) => [b.heading, backend, i] as const)))(
    '%s, with IOMUX_BACKEND=%s',
    (heading, backend, i) => {
      const file = path.join(dir, `block-${i}.mjs`);
      fs.writeFileSync(file, js[i]!.code);
      const run = spawnSync(process.execPath, [file], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, IOMUX_BACKEND: backend },
        timeout: 30_000,
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      for (const re of EXPECTED.find(([h]) => h.test(heading))?.[1] ?? []) expect(run.stdout).toMatch(re);
      if (/^A first program/.test(heading)) expect(run.stdout).toContain(`with ${backend}`);
    },
  );
});

/** Runs one README shell line with bash from the root; resolves with its output when it exits. */
function runLine(line: string, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', line], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('close', (code) => resolve({ code, out }));
  });
}

/** Starts a server line in its own process group and waits for it to print its address. */
function startServer(line: string): Promise<ChildProcess> {
  const child = spawn('bash', ['-c', `exec ${line}`], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no address printed by: ${line}\n${out}`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^raw on 127\.0\.0\.1:\d+/m.test(out) || /listening on /.test(out)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${line}\n${out}`)));
  });
}

/** Lines that start a program running until it is stopped. */
const SERVER = /examples\/(http-and-raw|echo-server)\.ts/;

describe('README shell blocks of the Examples section', () => {
  const sh = blocks.filter((b) => b.lang === 'sh' && b.heading === 'Examples');

  it('exist, and name only example programs', () => {
    expect(sh.length).toBeGreaterThan(0);
    for (const b of sh) for (const line of shellCommands(b.code)) expect(line).toMatch(/npx tsx examples\/[\w-]+\.ts/);
  });

  it.each(sh.map((b, i) => [i, shellCommands(b.code).join(' ; ')] as const))('block %i: %s', async (i) => {
    const ports = new Map<string, string>();
    const servers: ChildProcess[] = [];
    try {
      for (const written of shellCommands(sh[i]!.code)) {
        let line = written;
        for (const port of written.match(/\b80\d\d\b/g) ?? []) {
          if (!ports.has(port)) ports.set(port, String(await freePort()));
          line = line.replaceAll(port, ports.get(port)!);
        }
        if (SERVER.test(line)) {
          servers.push(await startServer(line));
          continue;
        }
        const run = await runLine(line, 180_000);
        expect(run.code, `${line}\n${run.out}`).toBe(0);
        if (line.includes('fetcher.ts')) expect(run.out).toMatch(/^fetched 2\/2 /m);
        if (line.includes('c10k.ts')) expect(run.out).toMatch(/^lost messages: 0$/m);
      }
    } finally {
      for (const s of servers) if (s.pid !== undefined) process.kill(-s.pid, 'SIGTERM');
    }
  }, 400_000);
});

/** The js and ts blocks of docs/*.md that import iomux: whole programs, run as a reader would. */
function docsPrograms(): Array<[name: string, lang: string, code: string]> {
  const out: Array<[string, string, string]> = [];
  for (const file of fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md'))) {
    const text = fs.readFileSync(path.join(root, 'docs', file), 'utf8');
    let i = 0;
    for (const m of text.matchAll(/^```(js|ts)\n([\s\S]*?)^```$/gm)) {
      if (/'iomux'/.test(m[2] ?? '')) out.push([`${file}#${i}`, m[1] ?? '', m[2] ?? '']);
      i++;
    }
  }
  return out;
}

describe('docs programs', () => {
  const programs = docsPrograms();
  const kqueue = canUse('kqueue');
  if (!kqueue) console.log('docs/kqueue.md programs skipped: no kqueue on this machine (macOS/BSD, or a libkqueue build)');

  it.each(programs.filter(([name]) => kqueue || !name.startsWith('kqueue.md')).map(([name], i) => [name, i] as const))(
    '%s runs',
    (name) => {
      const [, lang, code] = programs.find(([n]) => n === name)!;
      // js blocks in docs use require(); ts blocks are ES modules, run through tsx.
      const file = path.join(dir, `${name.replace(/[#.]/g, '-')}.${lang === 'js' ? 'cjs' : 'mts'}`);
      fs.writeFileSync(file, code);
      const args = lang === 'js' ? [file] : ['--import', 'tsx', file];
      const run = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
    },
  );
});
