"""The demo app's endpoints as a WSGI app, so Gunicorn can be measured on the same workloads.

Served by Debian's gunicorn in `npm run bench`. Under the gevent worker, time.sleep is
monkey-patched (cooperative), which is exactly the I/O-bound case /io stands for; /block
uses the original, unpatched time.sleep, which stalls the gevent hub like a blocking driver.
"""
import time
from urllib.parse import parse_qs


def _ms(environ, default):
    q = parse_qs(environ.get("QUERY_STRING", ""))
    try:
        return max(0, min(int(q.get("ms", [default])[0]), 120000))
    except ValueError:
        return default


def _blocking_wait(seconds):
    # Under gevent, time.sleep is patched to yield; the original one really blocks.
    try:
        from gevent import monkey
        real_time = monkey.get_original("time", "sleep")
        real_time(seconds)
    except Exception:
        time.sleep(seconds)


def _spin(iterations):
    x = 0.0
    for _ in range(iterations):
        x += (x + 1) ** 0.5
    return x


def _calibrate():
    # A fixed amount of work per request, as in the Node demo app: a spin bound by the clock
    # does less work whenever its thread waits for the GIL or a core. Keep the fastest of a
    # few short samples (the ones nothing interrupted).
    sample = 20000
    best = 0.0
    for _ in range(10):
        t = time.perf_counter()
        _spin(sample)
        dt = time.perf_counter() - t
        if dt > 0:
            best = max(best, sample / (dt * 1000.0))
    return best or sample


_ITERATIONS_PER_MS = _calibrate()


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/":
        body = b"Hello from paddock\n"
    elif path == "/io":
        ms = _ms(environ, 100)
        time.sleep(ms / 1000.0)
        body = b"io %dms\n" % ms
    elif path == "/cpu":
        ms = _ms(environ, 10)
        _spin(int(ms * _ITERATIONS_PER_MS))
        body = b"cpu %dms\n" % ms
    elif path == "/block":
        ms = _ms(environ, 100)
        _blocking_wait(ms / 1000.0)
        body = b"block %dms\n" % ms
    elif path == "/stream":
        q = parse_qs(environ.get("QUERY_STRING", ""))
        chunks = int(q.get("chunks", ["16"])[0])
        size = int(q.get("size", ["65536"])[0])
        start_response("200 OK", [("Content-Type", "text/plain")])
        payload = b"x" * size
        return (payload for _ in range(chunks))
    else:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not found\n"]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
