#!/usr/bin/env node
// npm's install step. A prebuilt binary that loads here (prebuilds/<platform>-<arch>, made by
// prebuildify) means nothing to do; otherwise node-gyp-build compiles the addon from native/.
// When that is needed and no toolchain is on PATH, say in one line what to install instead of
// letting node-gyp fail with a page of stack (parcel-bundler/watcher and better-sqlite3 users
// hit that page on platforms without prebuilds).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const platform = process.env.npm_config_platform || process.platform;
const arch = process.env.npm_config_arch || process.arch;

/** Loads a file in a child process, as node-gyp-build's own install check does. */
function loads(file) {
  return spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { stdio: 'ignore' }).status === 0;
}

/** The addon node-gyp-build would load here (build/Release, else a matching prebuild), if any. */
function resolved() {
  try {
    return require('node-gyp-build').path(root);
  } catch {
    return null;
  }
}

/** Whether `name` is an executable file in one of PATH's directories. */
function onPath(name) {
  return (process.env.PATH || '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir || '.', name), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** What node-gyp needs and is missing: python3, make (gmake on the BSDs), a C++ compiler. */
function missingTools() {
  const bsd = /bsd$/.test(platform);
  const missing = [];
  if (!process.env.npm_config_python && !process.env.PYTHON && !onPath('python3')) missing.push('python3');
  if (!onPath(bsd ? 'gmake' : 'make')) missing.push(bsd ? 'gmake' : 'make');
  if (!process.env.CXX && !['c++', 'g++', 'clang++'].some(onPath)) missing.push('a C++17 compiler (g++ or clang++)');
  return missing;
}

function howToInstall() {
  if (platform === 'darwin') return 'xcode-select --install';
  if (/bsd$/.test(platform)) return 'FreeBSD: pkg install python3 gmake; OpenBSD: pkg_add python3 gmake';
  return 'Debian/Ubuntu: apt-get install python3 make g++; Fedora: dnf install python3 make gcc-c++; Alpine: apk add python3 make g++';
}

function listed(items) {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

// An installed package uses what loads: its prebuild, or a build left by an earlier install. A
// git checkout (a contributor's, or CI's) never uses prebuilds/, so that build/Release is what
// is tested, but keeps a build/Release that loads (`npm run build` recompiles it).
const checkout = fs.existsSync(path.join(root, '.git'));
const fromSource = process.env.npm_config_build_from_source === 'true';
const found = fromSource ? null : resolved();
const usable = found !== null && (!checkout || found.startsWith(path.join(root, 'build') + path.sep)) && loads(found);
if (usable) process.exit(0);

const missing = missingTools();
if (missing.length > 0) {
  const why = checkout
    ? 'a git checkout does not use prebuilt binaries'
    : fromSource
      ? '--build-from-source was asked for'
      : `no prebuilt binary for ${platform}-${arch}`;
  process.stderr.write(
    `iomux: ${why}; compiling the addon needs ${listed(missing)}, ` +
      `not found on PATH: install ${missing.length > 1 ? 'them' : 'it'} (${howToInstall()}) and run npm install again.\n`,
  );
  process.exit(1);
}

// node-gyp-build's installer runs `node-gyp rebuild` (npm puts its own node-gyp on PATH).
const bin = path.join(path.dirname(require.resolve('node-gyp-build/package.json')), 'bin.js');
const env = checkout ? { ...process.env, npm_config_build_from_source: 'true' } : process.env;
const result = spawnSync(process.execPath, [bin], { stdio: 'inherit', cwd: root, env });
process.exit(result.status ?? 1);
