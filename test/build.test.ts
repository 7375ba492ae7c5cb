/** binding.gyp is the build of record; CMakeLists.txt must build the same addon from the same files. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');

interface GypTarget {
  sources: string[];
  defines: string[];
  conditions: Array<[string, { sources?: string[]; defines?: string[] }]>;
}

function readGyp(): GypTarget {
  const text = fs
    .readFileSync(path.join(root, 'binding.gyp'), 'utf8')
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .join('\n');
  return JSON.parse(text).targets[0] as GypTarget;
}

function gypBlock(target: GypTarget, condition: string): { sources: string[]; defines: string[] } {
  const found = target.conditions.find(([cond]) => cond === condition);
  if (!found) throw new Error(`binding.gyp has no condition ${condition}`);
  return { sources: found[1].sources ?? [], defines: found[1].defines ?? [] };
}

const cmake = fs.readFileSync(path.join(root, 'CMakeLists.txt'), 'utf8');

function cmakeList(name: string): string[] {
  const m = new RegExp(`set\\(${name}\\s+([^)]*)\\)`).exec(cmake);
  if (!m) throw new Error(`CMakeLists.txt does not set ${name}`);
  return m[1].split(/\s+/).filter(Boolean);
}

function cmakeAppends(marker: RegExp): { sources: string[]; defines: string[] } {
  const start = cmake.search(marker);
  if (start < 0) throw new Error(`CMakeLists.txt has no block matching ${marker}`);
  const block = cmake.slice(start).split(/\n(?:elseif|endif)/)[0];
  const grab = (list: string) =>
    [...block.matchAll(new RegExp(`list\\(APPEND ${list}\\s+([^)]*)\\)`, 'g'))].flatMap((m) => m[1].split(/\s+/).filter(Boolean));
  return { sources: grab('IOMUX_SOURCES'), defines: grab('IOMUX_DEFINES') };
}

describe('binding.gyp and CMakeLists.txt agree', () => {
  const gyp = readGyp();

  it('on the shared sources', () => {
    expect(cmakeList('IOMUX_SOURCES').sort()).toEqual([...gyp.sources].sort());
    for (const src of gyp.sources) expect(fs.existsSync(path.join(root, src)), src).toBe(true);
  });

  it('on NAPI_VERSION', () => {
    expect(cmakeList('IOMUX_DEFINES')).toContain('NAPI_VERSION=8');
    expect(gyp.defines).toContain('NAPI_VERSION=8');
  });

  it.each([
    ["OS=='linux'", /if\(CMAKE_SYSTEM_NAME STREQUAL "Linux"\)/],
    ["OS=='mac' or OS=='freebsd' or OS=='openbsd' or OS=='netbsd'", /elseif\(CMAKE_SYSTEM_NAME MATCHES/],
    ["OS=='linux' and kqueue_prefix!=''", /if\(CMAKE_SYSTEM_NAME STREQUAL "Linux" AND NOT IOMUX_KQUEUE_PREFIX/],
  ])('on the per-OS sources and defines of %s', (condition, marker) => {
    const g = gypBlock(gyp, condition);
    const c = cmakeAppends(marker);
    expect(c.sources.sort()).toEqual([...g.sources].sort());
    expect(c.defines.sort()).toEqual([...g.defines].sort());
  });
});

describe('the built addon', () => {
  it('resolves every symbol at load time (RTLD_NOW), so no call can fail on a missing one', () => {
    const file = path.join(root, 'build', 'Release', 'addon.node');
    const mod = { exports: {} as Record<string, unknown> };
    // A second, independent instance; RTLD_NOW makes the dynamic loader bind every symbol now.
    process.dlopen(mod, file, os.constants.dlopen.RTLD_NOW);
    expect(typeof mod.exports.select).toBe('function');
  });
});
