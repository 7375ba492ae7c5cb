/** Where the bench's non-TypeScript files are: beside this file, or in bench/ when run from dist/. */
import path from 'node:path';

const inDist = path.basename(path.resolve(__dirname, '..')) === 'dist';

/** The package's root directory (where package.json, bench/ and build/ are). */
export const packageRoot = inDist ? path.resolve(__dirname, '..', '..') : path.resolve(__dirname, '..');

/**
 * The path of a file shipped in bench/ (holder.cjs, peers/floor.c, peers/cpython.py). tsc does
 * not copy them to dist/bench/, so the compiled bench reads them from the package's bench/.
 * @param rel the path below bench/.
 * @returns an absolute path.
 */
export function benchAsset(rel: string): string {
  return path.join(packageRoot, 'bench', rel);
}

