/** `--csv FILE`: the same records as --json, one line per cell. */
import { writeFileSync } from 'node:fs';
import type { Cell } from './cells';
import { CELL_FIELDS } from './json';

function field(v: unknown): string {
  const s = typeof v === 'number' ? String(Math.round(v * 10) / 10) : String(v);
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
