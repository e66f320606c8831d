#!/usr/bin/env python3
"""Push pipelines side by side: RemoteWriter against vmagent and Prometheus' agent mode.

`make bench-push` runs this after building PushBenchRouter (release):

    python3 Benchmarks/bench_push.py Benchmarks/.build/release/PushBenchRouter

The router (Benchmarks/Sources/PushBenchRouter) holds 13,400 series (100 counter families x
100 label values; 10 classic histogram families x 20 label values with 14 finite buckets,
+Inf, _sum and _count) under a fixed update load (4 rounds a second, every series each
round; the same in every mode). Pipelines, each run on its own, in the order given:

  remotewriter       router --push <proxy>: a RemoteWriter, one target, push interval 1 s,
                     default queue settings (memory queue)
  remotewriter-disk  the same with a disk queue (--disk <temp dir>, queue.storagePath)
  vmagent            router --serve <port>, scraped every 1 s by vmagent 1.79 (defaults;
                     -remoteWrite.tmpDataPath in a temp dir)
  prometheus-agent   router --serve <port>, scraped every 1 s by Prometheus 2.42
                     --enable-feature=agent (remote_write defaults)

Every pipeline writes to its own fresh VictoriaMetrics 1.79 (-search.latencyOffset=0s so fresh
samples are visible at once, -search.disableCache, no deduplication) through an HTTP proxy in
this script that delays every request by BENCH_PUSH_DELAY_MS and, during the outage, answers
503 to every request without forwarding it. Everything listens on 127.0.0.1, on free ports;
data lives in a temp dir that is removed at the end; every process runs in a process group of
its own and is stopped (SIGTERM, then SIGKILL after 20 s) in a finally block, also on errors,
Ctrl-C and SIGTERM.

Phases of a pipeline: start; wait until every series has a sample in VM; warm-up
(BENCH_PUSH_WARMUP_S, 10); steady state (BENCH_PUSH_STEADY_S, 60); outage
(BENCH_PUSH_OUTAGE_S, 60); recovery, polled every second, at most BENCH_PUSH_RECOVERY_CAP_S
(240); peak memory read; the stored samples exported; stop.

What the columns mean and how they are measured:

- CPU s over idle: utime + stime (/proc/<pid>/stat, clock ticks of 10 ms) of the router and
  the sidecar over the steady state, minus what a router with the same update load that
  neither pushes nor is scraped (run first, same warm-up and duration) used. The proxy, VM and
  this script are not counted. The machine has 2 cores that other work may share: the notes
  give the CPU everything else used during each steady state (/proc/stat busy time minus the
  pipeline's), the router/sidecar split, and the tick period; compare rows whose "everything
  else" is alike.
- peak RSS: VmHWM (/proc/<pid>/status) of each process, read after recovery, so it includes
  the outage backlog.
- samples per series: samples stored per bench series with timestamps in the steady-state
  window (start, end], min-max over the 13,400 series. A perfectly periodic 1 s schedule gives
  exactly BENCH_PUSH_STEADY_S; fewer means a push/scrape schedule that drifts or skips.
- outage data s: seconds from the end of the outage until every sample stamped during the
  outage (timestamps in (outage start, outage end]) is in VM. Approximation: VM is polled
  every second (after /internal/force_flush) for the count of stored samples in that window;
  the figure is the first poll whose count equals the final count, provided the final
  export has no gap in the window (otherwise "incomplete"). Resolution: the poll period plus
  the query time (~1 s).
- live s: seconds from the end of the outage until every bench series has a sample at most
  5 s old in VM (count(count_over_time(series[5s])) at the poll time == 13,400).
- samples lost: from the final export, over (steady start, outage end]. A pipeline's
  samples carry one timestamp per scrape or snapshot (every series the same); the ticks are
  the union of timestamps over all series. Lost = for every series, the ticks it lacks, plus
  13,400 for every tick missing from all series (a gap between ticks over 1.5 s counts
  round(gap / 1 s) - 1 ticks; the window edges likewise). A second without any sample thus
  counts as lost even when the scraper or writer skipped it rather than dropped it.
  Duplicates (two samples of a series at one timestamp) are reported separately.
- series order: VM stores out-of-order samples, so order is checked on the way in: the
  proxy writes every body it forwards, named by forwarding order, and PushOrderCheck (built
  beside the router) decodes them in that order and counts samples older than their
  series' newest, which Prometheus' TSDB would refuse (a sample at a timestamp the series
  already has is a resend, counted as a duplicate, not as out of order).

Environment: BENCH_PUSH_DELAY_MS (100), BENCH_PUSH_STEADY_S (60), BENCH_PUSH_OUTAGE_S (60),
BENCH_PUSH_WARMUP_S (10), BENCH_PUSH_RECOVERY_CAP_S (240), BENCH_PUSH_PIPELINES
(remotewriter,remotewriter-disk,vmagent,prometheus-agent), BENCH_PUSH_KEEP=1 keeps the temp
dir (logs, data). The table goes to stdout and to Benchmarks/.bench-push.md.
"""

import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

SERIES = 13_400
SELECTOR = '{__name__=~"bench_.+"}'
PIPELINES = ("remotewriter", "remotewriter-disk", "vmagent", "prometheus-agent")
HERE = os.path.dirname(os.path.abspath(__file__))


def env_number(name, default):
    value = os.environ.get(name, "")
    return float(value) if value.strip() else float(default)


def log(message):
    print(f"[bench-push {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Interrupted(Exception):
    pass


def on_signal(signum, _frame):
    raise Interrupted(f"signal {signum}")


# ---------------------------------------------------------------------------------------------
# Processes


class Process:
    """A child in a process group of its own, with its output in a log file."""

    registry = []

    def __init__(self, name, argv, log_dir):
        self.name = name
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self.log_file = open(self.log_path, "wb")
        self.popen = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.pid = self.popen.pid
        Process.registry.append(self)

    def alive(self):
        return self.popen.poll() is None

    def cpu_seconds(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self, grace=20.0):
        """SIGTERM to the group, SIGKILL after `grace` seconds; returns seconds taken."""
        started = time.monotonic()
        if self.popen.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                log(f"{self.name} did not stop within {grace:.0f} s: SIGKILL")
        # Whatever is left in the group (the leader exited or hung) goes too.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.log_file.close()
        if self in Process.registry:
            Process.registry.remove(self)
        return time.monotonic() - started

    def tail(self, lines=15):
        try:
            with open(self.log_path, "rb") as f:
                return b"".join(f.readlines()[-lines:]).decode(errors="replace")
        except OSError:
            return ""

    @classmethod
    def stop_all(cls):
        for process in list(cls.registry):
            process.stop(grace=10.0)


def machine_busy_seconds():
    """CPU seconds all cores spent busy since boot (/proc/stat: everything but idle and iowait)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def http_get(port, path, timeout=30.0):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_until(predicate, timeout, what, process=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and not process.alive():
            raise RuntimeError(f"{process.name} exited while waiting for {what}:\n{process.tail()}")
        try:
            if predicate():
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.2)
    detail = f"\n{process.tail()}" if process is not None else ""
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")


# ---------------------------------------------------------------------------------------------
# The proxy in front of VictoriaMetrics


class Proxy:
    """Delays every request; forwards POSTs to VM's /api/v1/write, or answers 503 in an outage.

    A thread per client connection (keep-alive both ways: each thread keeps its own connection
    to VM)."""

    FORWARDED = ("Content-Encoding", "Content-Type", "X-Prometheus-Remote-Write-Version", "User-Agent")

    def __init__(self, upstream_port, delay_s, record_dir=None):
        self.upstream_port = upstream_port
        self.delay_s = delay_s
        # Every forwarded body is written here, named by forwarding order (the order check).
        self.record_dir = record_dir
        self.recorded = 0
        self.outage = False
        self.lock = threading.Lock()
        self.statuses = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.max_in_flight_after_outage = 0
        self.connections = 0
        self.upstream_seconds = 0.0
        self.forwarded = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                with proxy.lock:
                    proxy.connections += 1
                self.upstream = None

            def finish(self):
                try:
                    super().finish()
                finally:
                    if self.upstream is not None:
                        self.upstream.close()

            def read_body(self):
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length", "0")))

            def answer(self, status, body, content_type="text/plain"):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def forward(self, body):
                headers = {k: self.headers[k] for k in proxy.FORWARDED if self.headers.get(k) is not None}
                for attempt in (1, 2):
                    if self.upstream is None:
                        self.upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                    try:
                        self.upstream.request("POST", "/api/v1/write", body=body, headers=headers)
                        response = self.upstream.getresponse()
                        return response.status, response.read(), response.getheader("Content-Type", "text/plain")
                    except (OSError, http.client.HTTPException):
                        self.upstream.close()
                        self.upstream = None
                        if attempt == 2:
                            return 502, b"proxy: upstream failed\n", "text/plain"

            def do_POST(self):
                body = self.read_body()
                with proxy.lock:
                    proxy.in_flight += 1
                    proxy.max_in_flight = max(proxy.max_in_flight, proxy.in_flight)
                    proxy.max_in_flight_after_outage = max(proxy.max_in_flight_after_outage, proxy.in_flight)
                try:
                    time.sleep(proxy.delay_s)
                    if proxy.outage:
                        status, payload, content_type = 503, b"proxy: outage\n", "text/plain"
                    else:
                        if proxy.record_dir is not None:
                            with proxy.lock:
                                proxy.recorded += 1
                                sequence = proxy.recorded
                            with open(os.path.join(proxy.record_dir, f"{sequence:09d}"), "wb") as f:
                                f.write(body)
                        began = time.monotonic()
                        status, payload, content_type = self.forward(body)
                        with proxy.lock:
                            proxy.upstream_seconds += time.monotonic() - began
                            proxy.forwarded += 1
                finally:
                    with proxy.lock:
                        proxy.in_flight -= 1
                        proxy.statuses[status] = proxy.statuses.get(status, 0) + 1
                self.answer(status, payload, content_type)

            def do_GET(self):
                self.answer(404, b"proxy: POST /api/v1/write only\n")

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 256

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        self.thread.start()

    def set_outage(self, on):
        with self.lock:
            self.outage = on
            if not on:
                self.max_in_flight_after_outage = self.in_flight

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------------------------------
# VictoriaMetrics


class VictoriaMetrics:
    def __init__(self, directory, log_dir, name):
        self.port = free_port()
        self.process = Process(
            name,
            [
                "victoria-metrics",
                f"-storageDataPath={directory}",
                f"-httpListenAddr=127.0.0.1:{self.port}",
                "-search.latencyOffset=0s",
                "-search.disableCache",
                "-dedup.minScrapeInterval=0s",
                "-loggerLevel=WARN",
            ],
            log_dir,
        )
        wait_until(lambda: http_get(self.port, "/health", 2)[0] == 200, 30, "VictoriaMetrics", self.process)

    def flush(self):
        http_get(self.port, "/internal/force_flush")

    def query(self, expression, at):
        query = urllib.parse.urlencode({"query": expression, "time": f"{at:.3f}", "nocache": "1"})
        status, body = http_get(self.port, f"/api/v1/query?{query}")
        if status != 200:
            raise RuntimeError(f"VM query {expression!r}: {status} {body[:300]!r}")
        return json.loads(body)["data"]["result"]

    def scalar(self, expression, at):
        result = self.query(expression, at)
        return float(result[0]["value"][1]) if result else 0.0

    def export_timestamps(self, start, end):
        """{series key: sorted list of timestamps (ms)} for bench series in [start, end] (s)."""
        query = urllib.parse.urlencode({"match[]": SELECTOR, "start": f"{start:.3f}", "end": f"{end:.3f}"})
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        series = {}
        try:
            connection.request("GET", f"/api/v1/export?{query}")
            response = connection.getresponse()
            if response.status != 200:
                raise RuntimeError(f"VM export: {response.status} {response.read(300)!r}")
            for line in response:
                if not line.strip():
                    continue
                row = json.loads(line)
                key = tuple(sorted(row["metric"].items()))
                series.setdefault(key, []).extend(row["timestamps"])
        finally:
            connection.close()
        for timestamps in series.values():
            timestamps.sort()
        return series


# ---------------------------------------------------------------------------------------------
# Analysis of the stored samples


def count_in(timestamps, low_ms, high_ms):
    """Samples with low < t <= high."""
    return sum(1 for t in timestamps if low_ms < t <= high_ms)


def lost_ticks(ticks, low_ms, high_ms, period_ms=1000, tolerance_ms=100):
    """Ticks missing from a sorted tick list over (low, high]: a gap between two ticks over 1.5
    periods lacks round(gap / period) - 1 ticks; at an edge (not a tick itself) a gap lacks
    floor((gap - tolerance) / period)."""
    if not ticks:
        return int((high_ms - low_ms) // period_ms)
    missing = 0
    for before, after in zip(ticks, ticks[1:]):
        gap = after - before
        if gap > 1.5 * period_ms:
            missing += round(gap / period_ms) - 1
    for gap in (ticks[0] - low_ms, high_ms - ticks[-1]):
        missing += max(0, int((gap - tolerance_ms) // period_ms))
    return missing


def losses(series, low_ms, high_ms):
    """Samples lost over (low, high]: the ticks each series lacks, plus every series for each
    tick missing from all of them, plus every tick for each series missing altogether."""
    per_series = [sorted({t for t in timestamps if low_ms < t <= high_ms}) for timestamps in series.values()]
    ticks = sorted({t for distinct in per_series for t in distinct})
    partial = sum(len(ticks) - len(distinct) for distinct in per_series)
    missing_series = max(0, SERIES - len(series))
    return partial + SERIES * lost_ticks(ticks, low_ms, high_ms) + missing_series * len(ticks)


def analyse(series, steady, check, outage):
    """Per-series counts in the steady window; losses over the check and outage windows;
    duplicates; the samples stored in the outage window. Windows are (low, high] in ms."""
    counts = [count_in(timestamps, *steady) for timestamps in series.values()]
    duplicates = 0
    for timestamps in series.values():
        inside = [t for t in timestamps if check[0] < t <= check[1]]
        duplicates += len(inside) - len(set(inside))
    ticks = sorted({t for timestamps in series.values() for t in timestamps if steady[0] < t <= steady[1]})
    gaps = [after - before for before, after in zip(ticks, ticks[1:])]
    return {
        "tick_mean_ms": sum(gaps) / len(gaps) if gaps else 0.0,
        "tick_max_ms": max(gaps) if gaps else 0,
        "series": len(series),
        "missing_series": max(0, SERIES - len(series)),
        "min": min(counts) if counts else 0,
        "max": max(counts) if counts else 0,
        "lost": losses(series, *check),
        "outage_lost": losses(series, *outage),
        "duplicates": duplicates,
        "outage_samples": sum(count_in(timestamps, *outage) for timestamps in series.values()),
    }


# ---------------------------------------------------------------------------------------------
# Runs


class Settings:
    def __init__(self, router):
        self.router = router
        self.delay_s = env_number("BENCH_PUSH_DELAY_MS", 100) / 1000
        self.steady_s = env_number("BENCH_PUSH_STEADY_S", 60)
        self.outage_s = env_number("BENCH_PUSH_OUTAGE_S", 60)
        self.warmup_s = env_number("BENCH_PUSH_WARMUP_S", 10)
        self.cap_s = env_number("BENCH_PUSH_RECOVERY_CAP_S", 240)
        names = os.environ.get("BENCH_PUSH_PIPELINES", "").strip() or ",".join(PIPELINES)
        self.pipelines = [n.strip() for n in names.split(",") if n.strip()]
        for name in self.pipelines:
            if name not in PIPELINES:
                raise SystemExit(f"BENCH_PUSH_PIPELINES: unknown pipeline {name!r} (known: {', '.join(PIPELINES)})")
        self.keep = os.environ.get("BENCH_PUSH_KEEP", "") not in ("", "0")


def idle_cpu(settings, root):
    """CPU of the router with the update load only, over the steady-state duration."""
    log_dir = os.path.join(root, "idle")
    os.makedirs(log_dir)
    router = Process("router-idle", [settings.router], log_dir)
    try:
        time.sleep(settings.warmup_s)
        if not router.alive():
            raise RuntimeError(f"idle router exited:\n{router.tail()}")
        before = router.cpu_seconds()
        busy_before = machine_busy_seconds()
        time.sleep(settings.steady_s)
        cpu = router.cpu_seconds() - before
        other = machine_busy_seconds() - busy_before - cpu
        rss = router.peak_rss_mb()
    finally:
        router.stop()
    return cpu, rss, other


def scrape_config(path, router_port):
    with open(path, "w") as f:
        f.write(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: push-bench-router\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{router_port}']\n"
        )


def start_pipeline(name, settings, root, log_dir, proxy_url):
    """Starts the router (and sidecar); returns (router, sidecar or None)."""
    if name.startswith("remotewriter"):
        argv = [settings.router, "--push", proxy_url]
        if name == "remotewriter-disk":
            queue = os.path.join(root, "disk-queue")
            os.makedirs(queue, mode=0o700)
            argv += ["--disk", queue]
        return Process("router", argv, log_dir), None
    router_port = free_port()
    router = Process("router", [settings.router, "--serve", str(router_port)], log_dir)
    wait_until(lambda: http_get(router_port, "/-/healthy", 2)[0] == 200, 30, "the router's exporter", router)
    config = os.path.join(root, "scrape.yml")
    if name == "vmagent":
        scrape_config(config, router_port)
        data = os.path.join(root, "vmagent-data")
        argv = [
            "vmagent",
            f"-promscrape.config={config}",
            f"-remoteWrite.url={proxy_url}",
            f"-remoteWrite.tmpDataPath={data}",
            f"-httpListenAddr=127.0.0.1:{free_port()}",
            "-loggerLevel=WARN",
        ]
    else:
        scrape_config(config, router_port)
        with open(config, "a") as f:
            f.write(f"remote_write:\n  - url: {proxy_url}\n")
        argv = [
            "prometheus",
            "--enable-feature=agent",
            f"--config.file={config}",
            f"--storage.agent.path={os.path.join(root, 'agent-data')}",
            f"--web.listen-address=127.0.0.1:{free_port()}",
            "--log.level=warn",
        ]
    return router, Process(name, argv, log_dir)


def run_pipeline(name, settings, base):
    root = os.path.join(base, name)
    log_dir = os.path.join(root, "logs")
    os.makedirs(log_dir)
    vm = proxy = router = sidecar = None
    result = {"name": name}
    try:
        vm = VictoriaMetrics(os.path.join(root, "vm-data"), log_dir, "victoria-metrics")
        record_dir = os.path.join(root, "forwarded")
        os.makedirs(record_dir)
        proxy = Proxy(vm.port, settings.delay_s, record_dir)
        proxy_url = f"http://127.0.0.1:{proxy.port}/api/v1/write"
        router, sidecar = start_pipeline(name, settings, root, log_dir, proxy_url)
        processes = [p for p in (router, sidecar) if p is not None]

        def fresh():
            vm.flush()
            return vm.scalar(f"count(count_over_time({SELECTOR}[5s]))", time.time())

        def check_alive():
            for p in processes:
                if not p.alive():
                    raise RuntimeError(f"{p.name} exited:\n{p.tail()}")

        wait_until(lambda: fresh() >= SERIES, 90, f"{SERIES} fresh series in VM", router)
        log(f"{name}: data flowing; warm-up {settings.warmup_s:.0f} s")
        time.sleep(settings.warmup_s)
        check_alive()

        # Steady state.
        cpu_before = sum(p.cpu_seconds() for p in processes)
        router_before = router.cpu_seconds()
        busy_before = machine_busy_seconds()
        steady_start = time.time()
        time.sleep(settings.steady_s)
        steady_end = time.time()
        result["cpu"] = sum(p.cpu_seconds() for p in processes) - cpu_before
        result["router_cpu"] = router.cpu_seconds() - router_before
        result["other_cpu"] = machine_busy_seconds() - busy_before - result["cpu"]
        check_alive()
        log(f"{name}: steady state {settings.steady_s:.0f} s: {result['cpu']:.2f} CPU s; outage {settings.outage_s:.0f} s")

        # Outage.
        proxy.set_outage(True)
        outage_start = time.time()
        time.sleep(settings.outage_s)
        proxy.set_outage(False)
        outage_end = time.time()
        check_alive()
        log(f"{name}: outage over; recovery (at most {settings.cap_s:.0f} s)")

        # Recovery: poll the outage window's stored samples and the series' freshness.
        window_ms = int(round((outage_end - outage_start) * 1000))
        outage_query = (
            f"union(label_set(count(C), \"q\", \"n\"), label_set(sum(C), \"q\", \"sum\"), "
            f"label_set(min(C), \"q\", \"min\"), label_set(max(C), \"q\", \"max\"))"
        ).replace("C", f"count_over_time({SELECTOR}[{window_ms}ms])")
        polls = []
        live_at = None
        stable = 0
        last = None
        while True:
            now = time.time()
            elapsed = now - outage_end
            vm.flush()
            values = {r["metric"].get("q"): float(r["value"][1]) for r in vm.query(outage_query, outage_end)}
            fresh_series = vm.scalar(f"count(count_over_time({SELECTOR}[5s]))", now)
            state = (values.get("n", 0), values.get("sum", 0), values.get("min", 0), values.get("max", 0))
            polls.append((elapsed, state, fresh_series))
            if live_at is None and fresh_series >= SERIES:
                live_at = elapsed
            stable = stable + 1 if state == last else 0
            last = state
            complete = state[0] >= SERIES and state[2] == state[3] and stable >= 3
            if live_at is not None and complete:
                break
            if elapsed > settings.cap_s:
                log(f"{name}: recovery cap reached ({settings.cap_s:.0f} s)")
                result["capped"] = True
                break
            check_alive()
            time.sleep(max(0.0, 1.0 - (time.time() - now)))
        recovery_end = time.time()
        with open(os.path.join(log_dir, "recovery-polls.txt"), "w") as f:
            f.write("seconds_after_outage n_series sum min max fresh_series\n")
            for elapsed, state, fresh_series in polls:
                f.write(f"{elapsed:.2f} {' '.join(str(int(v)) for v in state)} {int(fresh_series)}\n")

        result["rss_router"] = router.peak_rss_mb()
        result["rss_sidecar"] = sidecar.peak_rss_mb() if sidecar else None
        if sidecar is not None:
            result["sidecar_metrics"] = sidecar_metrics(name, sidecar)

        # The stored samples, exactly.
        vm.flush()
        series = vm.export_timestamps(steady_start - 5, outage_end + 5)
        ms = lambda seconds: int(round(seconds * 1000))
        stats = analyse(
            series,
            steady=(ms(steady_start), ms(steady_end)),
            check=(ms(steady_start), ms(outage_end)),
            outage=(ms(outage_start), ms(outage_end)),
        )
        result.update(stats)
        result["outage_data"] = None
        if stats["outage_lost"] == 0:
            for elapsed, state, _ in polls:
                if state[0] >= SERIES and int(state[1]) >= stats["outage_samples"]:
                    result["outage_data"] = elapsed
                    break
        result["live"] = live_at
        result["recovery_s"] = recovery_end - outage_end
        result["proxy"] = dict(sorted(proxy.statuses.items()))
        result["max_in_flight"] = proxy.max_in_flight
        result["max_in_flight_recovery"] = proxy.max_in_flight_after_outage
        result["upstream_ms"] = 1000 * proxy.upstream_seconds / max(1, proxy.forwarded)
        log(
            f"{name}: outage data {fmt_seconds(result['outage_data'], settings.cap_s)}, "
            f"live {fmt_seconds(live_at, settings.cap_s)}, lost {stats['lost']}, "
            f"per series {stats['min']}-{stats['max']}"
        )
    finally:
        for process in (router, sidecar):
            if process is not None:
                took = process.stop()
                if process is router:
                    result["router_stop_s"] = took
                    result["router_status"] = [
                        line for line in process.tail(40).splitlines() if line.startswith("PushBenchRouter: target")
                    ]
        if proxy is not None:
            proxy.close()
        if vm is not None:
            vm.process.stop()
    result["order"] = check_order(settings, os.path.join(root, "forwarded"))
    shutil.rmtree(os.path.join(root, "forwarded"), ignore_errors=True)
    return result


def check_order(settings, record_dir):
    """PushOrderCheck over the bodies the proxy forwarded, in forwarding order: every series'
    timestamps only go up from request to request (Prometheus' TSDB refuses an older sample)."""
    checker = os.path.join(os.path.dirname(os.path.abspath(settings.router)), "PushOrderCheck")
    if not os.path.isdir(record_dir):
        return None
    done = subprocess.run([checker, record_dir], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip()[-300:]}
    fields = dict(item.split("=", 1) for item in done.stdout.split() if "=" in item and not item.startswith("first"))
    order = {key: int(value) for key, value in fields.items() if value.isdigit()}
    first = done.stdout.split(" first=", 1)
    order["first"] = first[1].strip() if len(first) == 2 else ""
    return order


def sidecar_metrics(name, sidecar):
    """A few of the sidecar's own remote-write counters, from its /metrics, labels dropped."""
    wanted = {
        "vmagent": ("vmagent_remotewrite_packets_dropped_total", "vmagent_remotewrite_retries_count_total"),
        "prometheus-agent": (
            "prometheus_remote_storage_samples_failed_total",
            "prometheus_remote_storage_samples_dropped_total",
            "prometheus_remote_storage_samples_retried_total",
            "prometheus_remote_storage_shards_desired",
            "prometheus_remote_storage_shards{",
        ),
    }[name]
    port = None
    with open(f"/proc/{sidecar.pid}/cmdline", "rb") as f:
        for argument in f.read().split(b"\0"):
            text = argument.decode()
            if text.startswith(("-httpListenAddr=", "--web.listen-address=")):
                port = int(text.rsplit(":", 1)[1])
    try:
        _, body = http_get(port, "/metrics", 10)
    except (OSError, http.client.HTTPException):
        return []
    values = {}
    for line in body.decode(errors="replace").splitlines():
        if line.startswith(wanted):
            metric = line.split("{", 1)[0].split(" ", 1)[0]
            values[metric] = values.get(metric, 0) + float(line.rsplit(" ", 1)[1])
    return [f"{metric} {value:g}" for metric, value in sorted(values.items())]


# ---------------------------------------------------------------------------------------------
# Report


def fmt_seconds(value, cap):
    return f"{value:.0f}" if value is not None else f"did not catch up (> {cap:.0f})"


def report(settings, idle, results, started):
    idle_cpu_s, idle_rss, idle_other = idle
    steady = f"{settings.steady_s:.0f} s"
    lines = [
        f"| pipeline | CPU s over idle (steady {steady}) | peak RSS router MB | peak RSS sidecar MB | "
        f"samples per series (min–max) | outage data s | live s | samples lost | series order |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "cpu" not in r:
            lines.append(f"| {r['name']} | failed: {r.get('error', '?')} | | | | | | | |")
            continue
        sidecar = f"{r['rss_sidecar']:.1f}" if r["rss_sidecar"] is not None else "–"
        capped = r.get("capped", False)
        lost = str(r["lost"])
        if r["outage_lost"] and capped:
            lost += " (not yet delivered at the cap)"
        if r["missing_series"]:
            lost += f"; {r['missing_series']} series missing"
        if r["duplicates"]:
            lost += f"; {r['duplicates']} duplicates"
        outage_data = fmt_seconds(r["outage_data"], settings.cap_s)
        if r["outage_data"] is None and not capped:
            outage_data = f"incomplete ({r['outage_lost']} missing)"
        order = r.get("order")
        if order is None:
            order_text = "not checked"
        elif "error" in order:
            order_text = f"check failed: {order['error']}"
        elif order.get("out_of_order", 0) == 0 and order.get("undecodable", 0) == 0:
            order_text = f"held ({order.get('samples', 0):,} samples, {order.get('requests', 0):,} requests)"
        else:
            order_text = (
                f"{order.get('out_of_order', 0)} out of order, {order.get('undecodable', 0)} undecodable; "
                f"first: {order.get('first', '')}"
            )
        lines.append(
            f"| {r['name']} | {r['cpu'] - idle_cpu_s:.2f} | {r['rss_router']:.1f} | {sidecar} | "
            f"{r['min']}–{r['max']} | {outage_data} | "
            f"{fmt_seconds(r['live'], settings.cap_s)} | {lost} | {order_text} |"
        )
    lines.append("")
    by_name = {r["name"]: r for r in results if "cpu" in r}
    for writer in ("remotewriter", "remotewriter-disk"):
        if writer not in by_name:
            continue
        w = by_name[writer]
        for sidecar in ("vmagent", "prometheus-agent"):
            if sidecar not in by_name:
                continue
            s = by_name[sidecar]
            s_cpu = s["cpu"] - idle_cpu_s
            cpu_ratio = f"{(w['cpu'] - idle_cpu_s) / s_cpu:.2f}" if s_cpu > 0 else "n/a"
            total = s["rss_router"] + (s["rss_sidecar"] or 0)
            added = w["rss_router"] - idle_rss
            pipeline = s["rss_router"] - idle_rss + (s["rss_sidecar"] or 0)
            lines.append(
                f"- {writer} / {sidecar}: CPU over idle {cpu_ratio}×; memory over idle "
                f"{added:.1f} / {pipeline:.1f} MB (the router's push vs its scrape cost + the sidecar) = "
                f"{added / pipeline:.2f}×; whole processes {w['rss_router']:.1f} / {total:.1f} MB = "
                f"{w['rss_router'] / total:.2f}×"
            )
    lines.append("")
    lines.append(
        f"Settings: proxy delay {settings.delay_s * 1000:.0f} ms a request; steady {settings.steady_s:.0f} s, "
        f"outage {settings.outage_s:.0f} s (503), recovery cap {settings.cap_s:.0f} s; warm-up "
        f"{settings.warmup_s:.0f} s; {SERIES} samples per snapshot; 1 s push / scrape interval. Idle router "
        f"(update load only): {idle_cpu_s:.2f} CPU s over {settings.steady_s:.0f} s (the rest of the machine "
        f"{idle_other:.1f} CPU s), peak RSS {idle_rss:.1f} MB. "
        f"Expected samples per series in the steady window: {settings.steady_s:.0f}. Samples lost: over the steady "
        f"state and the outage, counted as seconds without a sample. Series order: PushOrderCheck reads every body "
        f"the proxy forwarded, in forwarding order, and counts samples older than their series' newest (what "
        f"Prometheus' TSDB refuses; VM stores them)."
    )
    for r in results:
        if "cpu" not in r:
            continue
        detail = (
            f"- {r['name']}: proxy answers {r['proxy']} (VM took {r['upstream_ms']:.1f} ms a request on average, "
            f"after the delay), at most {r['max_in_flight']} requests in flight "
            f"({r['max_in_flight_recovery']} during recovery); steady-state ticks every {r['tick_mean_ms']:.1f} ms "
            f"on average, at most {r['tick_max_ms']} ms apart; recovery polled {r['recovery_s']:.0f} s, "
            f"router stopped in {r.get('router_stop_s', 0):.1f} s; steady-state CPU: router {r['router_cpu']:.2f} s"
            + (f", sidecar {r['cpu'] - r['router_cpu']:.2f} s" if r["rss_sidecar"] is not None else "")
            + f"; everything else on the machine (VM, proxy, "
            f"other work) used {r['other_cpu']:.1f} CPU s during the steady state"
        )
        if r.get("router_status"):
            detail += "; " + " ".join(s.replace("PushBenchRouter: ", "") for s in r["router_status"])
        if r.get("sidecar_metrics"):
            detail += "; " + ", ".join(r["sidecar_metrics"])
        lines.append(detail)
    lines.append(f"\nRun {time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}, "
                 f"{(time.time() - started) / 60:.1f} min.")
    return "\n".join(lines)


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: bench_push.py <PushBenchRouter binary>")
    settings = Settings(os.path.abspath(sys.argv[1]))
    for tool in ["victoria-metrics"] + (["vmagent"] if "vmagent" in settings.pipelines else []) + (
            ["prometheus"] if "prometheus-agent" in settings.pipelines else []):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench_push.py: {tool} not found (make bench-push installs it)")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    started = time.time()
    base = tempfile.mkdtemp(prefix="bench-push-")
    failed = False
    results = []
    try:
        log(f"temp dir {base}; pipelines {', '.join(settings.pipelines)}; idle baseline first")
        idle = idle_cpu(settings, base)
        log(f"idle router: {idle[0]:.2f} CPU s over {settings.steady_s:.0f} s")
        for name in settings.pipelines:
            try:
                results.append(run_pipeline(name, settings, base))
            except (RuntimeError, OSError, http.client.HTTPException, ValueError, KeyError) as error:
                failed = True
                log(f"{name} failed: {error}")
                results.append({"name": name, "error": str(error).splitlines()[0]})
        table = report(settings, idle, results, started)
        print()
        print(table)
        with open(os.path.join(HERE, ".bench-push.md"), "w") as f:
            f.write(table + "\n")
    except (Interrupted, KeyboardInterrupt) as error:
        failed = True
        log(f"interrupted ({error}); stopping everything")
    finally:
        Process.stop_all()
        if settings.keep or failed:
            log(f"kept {base} (logs, data)")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
