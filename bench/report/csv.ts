/** `--csv FILE`: the same records as --json, one line per cell. */
import { writeFileSync } from 'node:fs';
import type { Cell } from './cells';
import { CELL_FIELDS } from './json';

const round1 = (x: number) => String(Math.round(x * 10) / 10);

function field(v: unknown): string {
  // A list (roundBestNs) is one field, its numbers separated by spaces.
  const s = typeof v === 'number' ? round1(v) : Array.isArray(v) ? v.map(round1).join(' ') : v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The CSV text: a header line, then one line per cell. */
export function toCsv(cells: Cell[]): string {
  const lines = [CELL_FIELDS.join(',')];
  for (const c of cells) lines.push(CELL_FIELDS.map((f) => field(c[f])).join(','));
  return lines.join('\n') + '\n';
}

/** Writes the CSV to file. */
export function writeCsv(file: string, cells: Cell[]): void {
  writeFileSync(file, toCsv(cells));
}
