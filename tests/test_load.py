"""Load: 10 clients generating on Compare at once against a running app (gradio_client, loopback).

The app runs as a real child process (tests/browser/conftest.py's AppProcess) with the tiny model as
its base, so the test measures the queue and the server, not the model. Compare lets
``--compare-concurrency`` generations run at once (4 by default) and queues the rest. Every client
opens the project in its own session; one request loads the model; then all ten start together. All must finish without an
error, and greedy decoding must give each the same text (no answer crosses between sessions). The
latencies (submit to final result) are printed and written to test-output/load-latency.json; there
is no assert on them (this machine's speed is not the app's).
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from pathlib import Path

import pytest

CLIENTS = 10
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def app(tmp_path):
    from browser.conftest import AppProcess

    app = AppProcess(tmp_path / "projects")
    yield app
    app.stop()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def test_ten_clients_generate_on_compare_at_once(app, tiny_model_dir):
    import shutil

    from gradio_client import Client

    model_dir = shutil.copytree(tiny_model_dir, app.root / ".models" / "tiny-llama")  # the page reads only under its root

    clients = [Client(app.url, verbose=False) for _ in range(CLIENTS)]
    api = "/compare"
    for client in clients:
        client.predict("sample", api_name="/open_project")  # each session opens the sample project
    args = ("", "", "Write a LinkedIn post about shipping on Fridays", str(model_dir), False, 24, 0.0, 0.9, 0)
    cold = time.perf_counter()
    clients[0].predict(*args, api_name=api)  # loads the model once; the burst measures serving, not loading
    cold = time.perf_counter() - cold

    start = threading.Barrier(CLIENTS)
    results: list[dict] = [{} for _ in range(CLIENTS)]

    def generate(i: int) -> None:
        start.wait()
        began = time.perf_counter()
        try:
            outputs = clients[i].submit(*args, api_name=api).result(timeout=300)
            base = outputs[0]["value"] if isinstance(outputs[0], dict) else outputs[0]  # a column also relabels (blind mode)
            results[i] = {"latency_s": time.perf_counter() - began, "base": base, "stats": outputs[3]}
        except Exception as e:  # noqa: BLE001 - reported by the assert below
            results[i] = {"error": f"{type(e).__name__}: {e}"}

    threads = [threading.Thread(target=generate, args=(i,)) for i in range(CLIENTS)]
    wall = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=400)
    wall = time.perf_counter() - wall

    errors = [r.get("error") for r in results if "latency_s" not in r]
    assert errors == [], errors
    texts = {r["base"] for r in results}
    assert len(texts) == 1 and texts.pop()  # greedy: the same answer for everyone, none empty
    assert all("tokens" in r["stats"] for r in results)
    latencies = [r["latency_s"] for r in results]
    figures = {"clients": CLIENTS, "first_request_s": round(cold, 3), "p50_s": round(statistics.median(latencies), 3),
               "p95_s": round(percentile(latencies, 0.95), 3), "max_s": round(max(latencies), 3),
               "wall_s": round(wall, 3), "compare_concurrency": 4}
    print(f"\nCompare under load: {json.dumps(figures)}")
    out = REPO / "test-output" / "load-latency.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
