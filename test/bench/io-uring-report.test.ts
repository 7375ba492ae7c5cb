/** The report's io_uring against epoll table and verdict are computed from the cells given. */
import { describe, expect, it } from 'vitest';
import type { Cell } from '../../bench/report/cells';
import { CellIndex } from '../../bench/report/compare';
import { ioUringTables, ioUringVerdict } from '../../bench/report/io-uring';

function cell(scenario: string, backend: string, api: string, n: number, medianNs: number): Cell {
  return { scenario, backend, api, n, active: 1, timeoutMs: 0, medianNs, p25Ns: medianNs, p75Ns: medianNs, minNs: medianNs, maxNs: medianNs, samples: 5, callsPerSample: 100 };
}

describe('io_uring against epoll in the report', () => {
  it('says where io_uring wins, loses and ties, from the ratios of the same cells', () => {
    const cells = [
      cell('idle-scaling', 'io_uring', 'raw', 10, 900), cell('idle-scaling', 'epoll', 'raw', 10, 600),
      cell('idle-scaling', 'io_uring', 'raw', 1000, 960), cell('idle-scaling', 'epoll', 'raw', 1000, 640),
      cell('register-churn', 'c-io_uring', 'raw', 10, 500), cell('register-churn', 'c-epoll', 'raw', 10, 1000),
      cell('register-batch', 'io_uring', 'raw', 10, 1010), cell('register-batch', 'epoll', 'raw', 10, 1000),
      cell('register-batch', 'c-io_uring', 'raw', 10, 200), cell('register-batch', 'c-epoll', 'raw', 10, 800),
      cell('register-batch', 'c-io_uring', 'raw', 19000, 4000), cell('register-batch', 'c-epoll', 'raw', 19000, 800),
    ];
    const index = new CellIndex(cells);
    const text = ioUringVerdict(index)!;
    expect(text).toMatch(/io_uring wins \(faster by more than 5% in every cell\): registration churn \(per register \+ unregister pair\), C io_uring \/ C epoll 0\.50x\./);
    expect(text).toMatch(/io_uring loses \(slower by more than 5% in every cell\): idle scaling, timeout 0 ms, iomux IoUring wait\(\) \/ Epoll poll\(\) 1\.50x\./);
    expect(text).toMatch(/mixed or within 5%: register-batch .* 1\.01x \(within 5% at N=10 \(1\.01x\)\);/);
    expect(text).toMatch(/C io_uring \/ C epoll 0\.25x-5\.00x \(faster at N=10 \(0\.25x\); slower at N=19000 \(5\.00x\)\)/);
    const table = ioUringTables(index);
    expect(table).toMatch(/iomux IoUring wait\(\) \/ Epoll poll\(\)\s+1\.50x\s+1\.50x/);
  });

  it('says nothing when no io_uring series ran', () => {
    const index = new CellIndex([cell('idle-scaling', 'epoll', 'raw', 10, 600)]);
    expect(ioUringVerdict(index)).toBeNull();
    expect(ioUringTables(index)).toBe('');
  });

  it('sets the IoUringSelector echo server against DefaultSelector', () => {
    const row = (server: string, msgsPerSec: number, cpuUsPerMsg: number) => ({ server, conns: 100, active: 100, size: 64, msgsPerSec, p50Us: 1, p99Us: 2, cpuUsPerMsg, msgs: 1000 });
    const echo = { rows: [row('iomux DefaultSelector', 1000, 5), row('iomux IoUringSelector', 1100, 4)], seconds: 1, measureMs: 100 };
    const index = new CellIndex([]);
    expect(ioUringVerdict(index, echo)).toMatch(/io_uring wins .*: echo, IoUringSelector \/ DefaultSelector msgs\/s 1\.10x, server CPU per message 0\.80x\./);
    expect(ioUringTables(index, echo)).toMatch(/100\s+100\s+1\.10x\s+0\.80x/);
  });
});
