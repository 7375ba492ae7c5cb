/** Where the bench's non-TypeScript files are: beside this file, or in bench/ when run from dist/. */
import path from 'node:path';

/**
 * The path of a file shipped in bench/ (holder.cjs, peers/floor.c, peers/cpython.py). tsc does
 * not copy them to dist/bench/, so the compiled bench reads them from the package's bench/.
 * @param rel the path below bench/.
 * @returns an absolute path.
 */
export function benchAsset(rel: string): string {
  const inDist = path.basename(path.resolve(__dirname, '..')) === 'dist';
  return path.join(inDist ? path.resolve(__dirname, '..', '..', 'bench') : __dirname, rel);
}
