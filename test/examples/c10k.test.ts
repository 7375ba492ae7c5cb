/** examples/c10k.ts on a small count: every connection held, every message echoed. */
import { describe, expect, it } from 'vitest';
import { runExample } from './run';

describe('c10k example', () => {
  it('holds 200 connections and loses no message', async () => {
    const run = await runExample('c10k', ['--connections', '200', '--messages', '5'], 90_000);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^connections: 200 held at once of 200 \(0 failed, \w+\)$/m);
    expect(run.stdout).toMatch(/^messages: 1000 echoed in [\d.]+ s = \d+ messages\/s$/m);
    expect(run.stdout).toMatch(/^round trip: p50 [\d.]+ ms, p99 [\d.]+ ms$/m);
    expect(run.stdout).toMatch(/^lost messages: 0$/m);
    expect(run.code).toBe(0);
  }, 120_000);
});
