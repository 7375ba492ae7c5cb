/** `--json FILE`: one record per cell, with the run's facts beside them. */
import { writeFileSync } from 'node:fs';
import type { Cell } from './cells';
import type { RunInfo } from './table';

/** The fields of a JSON record, in the order they are written. */
export const CELL_FIELDS = [
  'scenario', 'backend', 'api', 'n', 'active', 'timeoutMs',
  'medianNs', 'p25Ns', 'p75Ns', 'minNs', 'maxNs', 'samples', 'callsPerSample', 'roundBestNs',
] as const satisfies ReadonlyArray<keyof Cell>;

/** Picks the documented fields so records carry nothing else. */
export function toRecord(c: Cell): Cell {
  const r = {} as Record<string, unknown>;
  for (const f of CELL_FIELDS) if (c[f] !== undefined) r[f] = c[f];
  return r as unknown as Cell;
}

/** Writes `{ info, cells: [...] }` to file. */
export function writeJson(file: string, cells: Cell[], info: RunInfo): void {
  writeFileSync(file, JSON.stringify({ info, cells: cells.map(toRecord) }, null, 1) + '\n');
}
