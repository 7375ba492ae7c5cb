/**
 * The bench where io_uring is refused (a seccomp filter makes io_uring_setup fail with EPERM,
 * as Docker's default profile does): it still runs, leaves the io_uring series and the C
 * io_uring floor out, and says why.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = path.join(__dirname, '..', '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-bench-nouring-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** test/raw/fixtures/seccomp-deny-io-uring.c, compiled here; undefined (and why) without cc. */
function helper(): string | undefined {
  if (process.platform !== 'linux') {
    console.log('bench without io_uring: skipped, seccomp is Linux only');
    return undefined;
  }
  const out = path.join(dir, 'deny-io-uring');
  try {
    execFileSync('cc', ['-O1', '-o', out, path.join(repoRoot, 'test', 'raw', 'fixtures', 'seccomp-deny-io-uring.c')], { stdio: 'pipe' });
    return out;
  } catch (err) {
    console.log(`bench without io_uring: skipped, cannot compile the seccomp helper with cc (${(err as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

const deny = helper();

describe.skipIf(deny === undefined)('bench where io_uring_setup is refused', () => {
  it('runs, leaves the io_uring series out and says why', () => {
    const file = path.join(dir, 'run.json');
    const args = ['--import', 'tsx', 'bench/index.ts', '--quick', '--sizes', '10', '--active', '1', '--time', '4', '--peers', 'c', '--backends', 'epoll,io_uring', '--json', file];
    const res = spawnSync(deny as string, ['EPERM', process.execPath, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
    expect(res.status, res.stderr).toBe(0);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { info: { notes: string[] }; cells: Array<{ backend: string; scenario: string }> };
    expect(doc.info.notes).toContainEqual(expect.stringMatching(/^io_uring series left out: io_uring_setup: EPERM/));
    expect(doc.info.notes).toContainEqual(expect.stringMatching(/^C io_uring floor left out: io_uring_setup: /));
    const backends = new Set(doc.cells.map((c) => c.backend));
    expect([...backends].filter((b) => b.includes('io_uring'))).toEqual([]);
    for (const b of ['epoll', 'c-epoll']) expect(backends).toContain(b);
    expect(new Set(doc.cells.map((c) => c.scenario))).toEqual(new Set(['idle-scaling', 'activity-sweep', 'register-churn', 'register-batch']));
    expect(res.stdout).not.toMatch(/== io_uring against epoll/);
  }, 150_000);
});
