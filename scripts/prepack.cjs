#!/usr/bin/env node
// `npm pack` / `npm publish`: make sure the tarball carries a prebuilt binary for this machine.
// prebuilds/ is not committed (binaries do not belong in git; CI's prebuild jobs make one per
// platform with `npm run build:prebuild` and the pack job downloads them all into prebuilds/).
// Here, the local node-gyp build is copied to the name prebuildify gives it
// (prebuilds/<platform>-<arch>/iomux[.glibc|.musl].node, Node-API so one file serves every Node
// >= 20) and stripped as `prebuildify --strip` does, without compiling a second time.
// With no local build (CI's pack job installs with --ignore-scripts) the prebuilds already in
// prebuilds/ are packed as they are; with neither, packing stops with what to run.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const built = path.join(root, 'build', 'Release', 'addon.node');
const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);

function fail(message) {
  process.stderr.write(`prepack: ${message}\n`);
  process.exit(1);
}

function libc() {
  if (process.platform !== 'linux') return '';
  // node-gyp-build tells musl from glibc the same way (Alpine's marker file).
  return fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc';
}

if (fs.existsSync(built)) {
  // A build for development must not be shipped: libkqueue (IOMUX_KQUEUE_PREFIX) or a sanitizer.
  const bytes = fs.readFileSync(built);
  for (const lib of ['libkqueue.so', 'libasan.so', 'libubsan.so', 'libtsan.so', 'libclang_rt.asan']) {
    if (bytes.includes(lib)) fail(`${built} links ${lib}: run \`npm run build\` with no extra options first`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const dest = path.join(dir, ['iomux', libc(), 'node'].filter(Boolean).join('.'));
  fs.copyFileSync(built, dest);
  if (process.platform === 'linux') execFileSync('strip', ['--strip-all', dest]);
  if (process.platform === 'darwin') execFileSync('strip', ['-Sx', dest]);
  const check = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(dest)})`], { stdio: 'inherit' });
  if (check.status !== 0) fail(`${dest} does not load`);
  process.stderr.write(`prepack: ${path.relative(root, dest)} (${fs.statSync(dest).size} bytes) from the local build\n`);
} else if (!fs.existsSync(dir) || fs.readdirSync(dir).length === 0) {
  fail(`no build/Release/addon.node and no ${path.relative(root, dir)}: run \`npm run build\` (or \`npm ci\`) first`);
}

const shipped = fs.readdirSync(path.join(root, 'prebuilds')).sort();
process.stderr.write(`prepack: shipping prebuilds for ${shipped.join(', ')}\n`);
