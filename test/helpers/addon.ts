/**
 * How a child process or worker loads the addon the tests use: the file named by
 * IOMUX_ADDON_PATH when set (npm run test:sanitize, or an old build to check that a regression
 * test fails), else node-gyp-build's pick, as lib/binding.ts does.
 */
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '../..');

/** A JS expression (CommonJS) that evaluates to the loaded addon. */
export function addonExpr(): string {
  const override = process.env.IOMUX_ADDON_PATH;
  if (override) return `require(${JSON.stringify(path.resolve(override))})`;
  const gypBuild = require.resolve('node-gyp-build', { paths: [repoRoot] });
  return `require(${JSON.stringify(gypBuild)})(${JSON.stringify(repoRoot)})`;
}
