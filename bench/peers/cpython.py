"""CPython peer of the iomux benchmark: the same call loop through CPython's select and selectors.

The bench runs this file with python3 and the workload's sockets inherited at the same fd
numbers the bench process uses, so every backend and peer is measured on one socket set.

usage: cpython.py MODE TIMEOUTS TIME_MS MAX_SAMPLES FDS K CALLS BATCH_MS
       cpython.py serve   (reads such 8-field lines from stdin and answers each with its JSON
                           lines and then "done")
  MODE      select | poll | epoll | kqueue (the select module's own calls) or
            DefaultSelector | PollSelector | SelectSelector | EpollSelector | KqueueSelector
            (selectors.select()),
            churn-poll | churn-epoll | churn-DefaultSelector (register + unregister of one more fd)
  TIMEOUTS  comma-separated ms; passed as seconds where CPython wants seconds
  TIME_MS   measuring time per timeout, after a short warm-up
  FDS       the watched fds in array order, as ranges: "300-1299,1400"
  K         how many of the last fds in FDS are active (readable); the others must be idle
  CALLS     calls per timed batch, one per timeout ("0" = calibrate to about BATCH_MS)
  BATCH_MS  the batch length that calibration aims at
Calls are timed in batches, as the bench times iomux: k calls between two clock reads, one
sample (ns per call) per batch, every call checked.
Prints one JSON line per timeout: {"timeoutMs":T,"calls":k,"samples":[ns,...]}. Exits 2 when a
call reports anything other than exactly the K active fds.
"""
import json
import select
import selectors
import sys
from time import perf_counter_ns


def parse_fds(spec):
    fds = []
    for part in spec.split(","):
        if "-" in part:
            a, b = part.split("-")
            fds.extend(range(int(a), int(b) + 1))
        elif part:
            fds.append(int(part))
    return fds


def make_call(mode, fds, k, timeout_ms):
    """Returns (call, close): call() does one call and returns the fds it found ready."""
    secs = timeout_ms / 1000
    if mode == "select":
        rlist = list(fds)

        def call():
            return select.select(rlist, [], [], secs)[0]
        return call, lambda: None
    if mode in ("poll", "epoll"):
        if mode == "poll":
            p = select.poll()
            for fd in fds:
                p.register(fd, select.POLLIN)
            wait, arg = p.poll, timeout_ms
        else:
            p = select.epoll()
            for fd in fds:
                p.register(fd, select.EPOLLIN)
            wait, arg = p.poll, secs

        def call():
            return [fd for fd, _ in wait(arg)]
        return call, getattr(p, "close", lambda: None)
    if mode == "kqueue":
        kq = select.kqueue()
        kq.control([select.kevent(fd, select.KQ_FILTER_READ, select.KQ_EV_ADD) for fd in fds], 0)
        control = kq.control

        def call():
            return [ev.ident for ev in control(None, 1024, secs)]
        return call, kq.close
    if mode.startswith("churn-"):
        what = mode[len("churn-"):]
        extra = fds[-1]
        if what == "poll":
            p = select.poll()
            reg = lambda: p.register(extra, select.POLLIN)  # noqa: E731
        elif what == "epoll":
            p = select.epoll()
            reg = lambda: p.register(extra, select.EPOLLIN)  # noqa: E731
        else:
            p = getattr(selectors, what)()
            reg = lambda: p.register(extra, selectors.EVENT_READ)  # noqa: E731
        for fd in fds[:-1]:
            if what in ("poll", "epoll"):
                p.register(fd, select.POLLIN)
            else:
                p.register(fd, selectors.EVENT_READ)
        unreg = p.unregister

        def call():
            reg()
            unreg(extra)
        return call, getattr(p, "close", lambda: None)
    sel = getattr(selectors, mode)()
    for fd in fds:
        sel.register(fd, selectors.EVENT_READ)

    def call():
        return [key.fd for key, _ in sel.select(secs)]
    return call, sel.close


def make_batch(call, k_ready, active, checked, mode):
    """Returns batch(k): k checked calls between two clock reads, the elapsed ns."""
    def fail(ready):
        print(f"cpython: {mode} reported {len(ready)} ready fds, expected the {k_ready} active",
              file=sys.stderr)
        sys.exit(2)

    def batch(k):
        t0 = perf_counter_ns()
        for _ in range(k):
            ready = call()
            if checked and (len(ready) != k_ready or not active.issuperset(ready)):
                fail(ready)
        return perf_counter_ns() - t0
    return batch


def calibrate(batch, batch_ns):
    """The k that makes one batch last about batch_ns (at least 1); the faster of two tries
    of each k counts, so that one pause cannot shrink k."""
    k = 1
    while True:
        dt = min(batch(k), batch(k))
        if dt >= batch_ns / 4 or k >= 1 << 24:
            return max(1, round(k * batch_ns / max(dt, 1)))
        k *= 2


def run(mode, timeouts, time_ms, max_samples, spec, k, calls, batch_ms):
    """One measurement; writes one JSON line per timeout."""
    time_ns, max_samples, k = float(time_ms) * 1e6, max(3, int(max_samples)), int(k)
    batch_ns = float(batch_ms) * 1e6
    fds = parse_fds(spec)
    active = set(fds[len(fds) - k:])
    checked = not mode.startswith("churn-")
    per_timeout = [int(c) for c in calls.split(",")]
    for i, t in enumerate(timeouts.split(",")):
        timeout_ms = int(t)
        call, close = make_call(mode, fds, k, timeout_ms)
        batch = make_batch(call, k, active, checked, mode)
        n = per_timeout[i] if i < len(per_timeout) else 0
        if n < 1:
            n = calibrate(batch, batch_ns)
        warm_end = perf_counter_ns() + time_ns / 5
        while perf_counter_ns() < warm_end:
            batch(n)
        samples = []
        end = perf_counter_ns() + time_ns
        while True:
            samples.append(batch(n) / n)
            if (perf_counter_ns() >= end and len(samples) >= 3) or len(samples) >= max_samples:
                break
        close()
        samples.sort()
        sys.stdout.write(json.dumps({"timeoutMs": timeout_ms, "calls": n,
                                     "samples": [round(x, 1) for x in samples]}) + "\n")
        sys.stdout.flush()


def main():
    if len(sys.argv) == 9:
        run(*sys.argv[1:])
        return
    if len(sys.argv) != 2 or sys.argv[1] != "serve":
        print(__doc__, file=sys.stderr)
        sys.exit(64)
    for line in sys.stdin:
        fields = line.split()
        if len(fields) != 8:
            print(f"cpython: a request needs 8 fields, got {len(fields)}", file=sys.stderr)
            sys.exit(64)
        run(*fields)
        sys.stdout.write("done\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
