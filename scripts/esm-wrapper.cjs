// Writes the ES module entry next to the CommonJS build: dist/lib/index.mjs re-exports the
// CommonJS build by name, so that `import { DefaultSelector } from 'iomux'` and
// `require('iomux')` share one copy of the addon; dist/lib/index.d.mts gives it declarations of
// its own, so that TypeScript reads the import entry as ESM (not "masquerading as CJS").
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist', 'lib');
const names = Object.keys(require(path.join(dist, 'index.js'))).filter((n) => n !== 'default' && n !== '__esModule');
const js = [
  "import cjs from './index.js';",
  ...names.map((n) => `export const ${n} = cjs.${n};`),
  'export default cjs;',
  '',
].join('\n');
const dts = [
  '/// <reference types="node" preserve="true" />',
  "export * from './index.js';",
  "import * as iomux from './index.js';",
  'export default iomux;',
  '',
].join('\n');
fs.writeFileSync(path.join(dist, 'index.mjs'), js);
fs.writeFileSync(path.join(dist, 'index.d.mts'), dts);
