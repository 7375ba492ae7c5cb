"""CPython peer of the iomux benchmark: the same call loop through CPython's select and selectors.

The bench runs this file with python3 and the workload's sockets inherited at the same fd
numbers the bench process uses, so every backend and peer is measured on one socket set.

usage: cpython.py MODE TIMEOUTS TIME_MS MAX_SAMPLES FDS K
       cpython.py serve   (reads "MODE TIMEOUTS TIME_MS MAX_SAMPLES FDS K" lines from stdin and
                           answers each with its JSON lines and then "done")
  MODE      select | poll | epoll (the select module's own calls) or
            DefaultSelector | PollSelector | SelectSelector | EpollSelector (selectors.select()),
            churn-poll | churn-epoll | churn-DefaultSelector (register + unregister of one more fd)
  TIMEOUTS  comma-separated ms; passed as seconds where CPython wants seconds
  TIME_MS   measuring time per timeout, after a short warm-up
  FDS       the watched fds in array order, as ranges: "300-1299,1400"
  K         how many of the last fds in FDS are active (readable); the others must be idle
Prints one JSON line per timeout: {"timeoutMs":T,"samples":[ns,...]}. Exits 2 when a call
reports anything other than exactly the K active fds.
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


def run(mode, timeouts, time_ms, max_samples, spec, k):
    """One measurement; writes one JSON line per timeout."""
    time_ns, max_samples, k = float(time_ms) * 1e6, int(max_samples), int(k)
    fds = parse_fds(spec)
    active = set(fds[len(fds) - k:])
    checked = not mode.startswith("churn-")
    for t in timeouts.split(","):
        timeout_ms = int(t)
        call, close = make_call(mode, fds, k, timeout_ms)
        samples = []
        append = samples.append
        warm_end = perf_counter_ns() + time_ns / 5
        end = None
        while True:
            t0 = perf_counter_ns()
            ready = call()
            t1 = perf_counter_ns()
            if checked and (len(ready) != k or not active.issuperset(ready)):
                print(f"cpython: {mode} reported {len(ready)} ready fds, expected the {k} active",
                      file=sys.stderr)
                sys.exit(2)
            if end is None:
                if t1 >= warm_end:
                    end = t1 + time_ns
                continue
            append(t1 - t0)
            if t1 >= end or len(samples) >= max_samples:
                break
        close()
        samples.sort()
        sys.stdout.write(json.dumps({"timeoutMs": timeout_ms, "samples": samples}) + "\n")
        sys.stdout.flush()


def main():
    if len(sys.argv) == 7:
        run(*sys.argv[1:])
        return
    if len(sys.argv) != 2 or sys.argv[1] != "serve":
        print(__doc__, file=sys.stderr)
        sys.exit(64)
    for line in sys.stdin:
        fields = line.split()
        if len(fields) != 6:
            print(f"cpython: a request needs 6 fields, got {len(fields)}", file=sys.stderr)
            sys.exit(64)
        run(*fields)
        sys.stdout.write("done\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
