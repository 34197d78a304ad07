"""Latency of a live preview as the web process renders it: the any-style network at 256 px, on one thread.

    python -m scripts.preview_latency WEIGHTS_DIR STYLE_IMAGE [--repeats 30] [--clients 4]

Times the previews first on an idle machine, then while a second process renders 1024 px pictures on two threads
(a busy RQ worker), one at a time and then from ``--clients`` threads at once (as gunicorn's threads serve them),
and prints the median and 95th percentile of each. The photo is Grace Hopper's public-domain
portrait that matplotlib ships as sample data.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as `make run` sets it (scripts/run.py), before numpy loads

import argparse
import multiprocessing
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from matplotlib import cbook
from PIL import Image
from stylecore import Engine, EngineConfig

PREVIEW_SIDE = 256


def _open(path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")


def _busy_worker(weights: Path, style: Path, stop) -> None:
    engine = Engine(weights, EngineConfig(threads=2))
    photo = _open(cbook.get_sample_data("grace_hopper.jpg")).resize((1024, 1024))
    while not stop.is_set():
        engine.stylize(photo, style=_open(style), method="arbitrary", max_side=1024)


def _time_previews(engine: Engine, photo: Image.Image, style: Image.Image, repeats: int) -> list[float]:
    timings = []
    for index in range(repeats):
        started = time.perf_counter()
        engine.stylize(photo, style=[style], method="arbitrary", strength=(index % 10 + 1) / 10,
                       max_side=PREVIEW_SIDE, style_scale=PREVIEW_SIDE)
        timings.append(time.perf_counter() - started)
    return timings


def _report(label: str, timings: list[float]) -> None:
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"{label}: median {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
          f"({len(ordered)} previews)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights", type=Path)
    parser.add_argument("style", type=Path)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    engine = Engine(args.weights, EngineConfig(threads=1))  # as gallery.jobs.get_preview_engine
    photo = _open(cbook.get_sample_data("grace_hopper.jpg"))
    photo.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    style = _open(args.style)
    style.thumbnail((2 * PREVIEW_SIDE, 2 * PREVIEW_SIDE))
    _time_previews(engine, photo, style, 3)  # load the networks and warm ONNX Runtime up
    _report("idle", _time_previews(engine, photo, style, args.repeats))

    stop = multiprocessing.Event()
    worker = multiprocessing.Process(target=_busy_worker, args=(args.weights, args.style, stop))
    worker.start()
    time.sleep(3)
    try:
        _report("while a worker renders 1024 px pictures", _time_previews(engine, photo, style, args.repeats))
        with ThreadPoolExecutor(args.clients) as pool:
            per_client = pool.map(lambda _: _time_previews(engine, photo, style, args.repeats), range(args.clients))
            _report(f"{args.clients} users at once, while a worker renders", [t for ts in per_client for t in ts])
    finally:
        stop.set()
        worker.join()


if __name__ == "__main__":
    main()
