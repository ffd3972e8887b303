"""Load test of the app's HTTP API on 127.0.0.1 (weight-free decoder).

    python scripts/load_test.py [--clients 8] [--requests 240] [--timeout 600]
                                [--structure canny|sketch|auto]

Starts `python app.py` on a free local port, then each client loops encode -> inspect -> decode
through gradio_client until the request count is reached. Prints requests served, errors,
median / p95 latency per endpoint, the server's memory (RSS) after warm-up, after half the
requests and at the end (flat: the second half adds little), and
checks that an upload over the size limit is refused. Exit code 1 on any error.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGE = ROOT / "assets" / "fennec_bottle_sdxlturbo.png"
# Note: clients that download byte-identical output files at the same moment can hit a race in
# Gradio's file cache (a short read, "Too little data for declared Content-Length"); with one
# shared image, 3 of 240 requests failed that way, so each client uploads its own picture.


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start(port: int) -> subprocess.Popen:
    env = dict(os.environ, AIGIC_PORT=str(port), AIGIC_BACKEND="preview")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the app did not start within 120 s")


def own_image(i: int) -> str:
    """Each client its own picture (a shifted crop), as real users upload different images."""
    import tempfile

    from PIL import Image

    img = Image.open(IMAGE).convert("RGB")
    w, h = img.size
    path = Path(tempfile.gettempdir()) / f"aigic-load-{os.getpid()}-{i}.png"
    img.crop((8 * i, 4 * i, w - 8 * i, h - 4 * i)).save(path)
    return str(path)


def oversize_refused(url: str) -> bool:
    import httpx

    big = b"\0" * (21 * 1024 * 1024)
    r = httpx.post(f"{url}gradio_api/upload", files={"files": ("big.png", big)}, timeout=60)
    return r.status_code >= 400


def run(clients: int, requests: int, timeout: float, structure: str = "canny") -> dict:
    from gradio_client import Client, handle_file

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    proc = start(port)
    lat: dict[str, list[float]] = {"encode": [], "inspect": [], "decode": []}
    errors: list[str] = []
    served = [0]
    goal = [0]  # requests to serve by the end of the current round
    lock = threading.Lock()
    stop_at = time.time() + timeout

    def take() -> bool:
        with lock:
            if served[0] >= goal[0] or time.time() > stop_at:
                return False
            served[0] += 3
            return True

    def client_loop(i: int):
        c = Client(url, verbose=False)
        calls = [
            ("encode", (handle_file(own_image(i)), "", structure, "default", 0)),
            ("inspect", ()),
            ("decode", (["semantic", "structure", "texture"], -1)),
        ]
        while take():
            for name, args in calls:
                t = time.perf_counter()
                try:
                    c.predict(*args, api_name=f"/{name}")
                except Exception as exc:  # noqa: BLE001 (counted and reported)
                    errors.append(f"{name}: {type(exc).__name__}: {exc}"[:200])
                with lock:
                    lat[name].append(time.perf_counter() - t)

    try:
        Client(url, verbose=False).predict(
            handle_file(str(IMAGE)), "", "canny", "default", 0, "auto", api_name="/encode"
        )  # warm-up
        rss = [rss_mib(proc.pid)]
        t0 = time.time()
        for goal[0] in (requests // 2, requests):  # two rounds: memory is read after each
            threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            rss.append(rss_mib(proc.pid))
        wall = time.time() - t0
        refused = oversize_refused(url)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    every = [x for v in lat.values() for x in v]
    return {
        "clients": clients,
        "requests": len(every),
        "errors": errors,
        "wall_s": wall,
        "median_s": {k: statistics.median(v) for k, v in lat.items() if v},
        "p95_s": {k: sorted(v)[int(0.95 * (len(v) - 1))] for k, v in lat.items() if v},
        "rss_mib": tuple(rss),  # after warm-up, after the first half, at the end
        "oversize_refused": refused,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--requests", type=int, default=240)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument(
        "--structure",
        default="canny",
        choices=["canny", "sketch", "auto"],
        help="what the encodes extract (sketch: PiDiNet, its weights via AIGIC_MODEL_DIR)",
    )
    a = p.parse_args()
    r = run(a.clients, a.requests, a.timeout, a.structure)
    print(f"clients {r['clients']}, requests served {r['requests']} in {r['wall_s']:.1f} s, "
          f"errors {len(r['errors'])}")  # fmt: skip
    for k in r["median_s"]:
        print(
            f"  {k:<8} median {r['median_s'][k] * 1000:.0f} ms, p95 {r['p95_s'][k] * 1000:.0f} ms"
        )
    start, half, end = r["rss_mib"]
    print(f"server memory (RSS): {start:.0f} MiB after warm-up, {half:.0f} MiB after half the "
          f"requests, {end:.0f} MiB at the end")  # fmt: skip
    print(f"upload over the 20 MB limit refused: {r['oversize_refused']}")
    for e in r["errors"][:10]:
        print("  error:", e)
    return 1 if r["errors"] or not r["oversize_refused"] else 0


if __name__ == "__main__":
    sys.exit(main())
