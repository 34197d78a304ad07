"""Print sizes: the picture a job paints for a photo and a size, and how long it is expected to take on this machine.

A size is a longest side in px (settings.JOB_SIZE_CHOICES) or OWN_SIZE, the photo's own. Either is capped by the
photo (the engine never upscales), settings.JOB_MAX_SIDE px a side and settings.JOB_MAX_PIXELS in area. Expected times
are the bench's figures for this machine (settings.BENCHMARKS_JSON, written by ``python -m benchmarks bench``),
interpolated by pixel count; a size the figures do not cover gets no time rather than a guess. The page does the same
arithmetic for the photo the visitor picks (static/gallery/sizes.js), before it is uploaded.
"""

import json
import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

OWN_SIZE = "photo"  # the form's and the API's value for "the photo's own size"
METHODS = ("fast", "arbitrary", "optimize")  # StyleJob.Method's values, as the bench's JSON names them


def picture_size(width: int, height: int, side: int) -> tuple[int, int]:
    """The picture's width and height at longest side ``side`` (never larger than the photo), rounded as the engine
    resizes (stylecore.imageio.fit_within)."""
    longest = max(width, height)
    if longest <= side:
        return width, height
    scale = side / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def picture_side(width: int, height: int, asked: int | None) -> int:
    """The longest side of the picture a job paints from a ``width`` x ``height`` photo when ``asked`` px is asked
    for (None: the photo's own size): capped by the photo, JOB_MAX_SIDE and JOB_MAX_PIXELS."""
    longest = max(width, height)
    side = min(longest, settings.JOB_MAX_SIDE, asked or longest)
    if width * height * (side / longest) ** 2 > settings.JOB_MAX_PIXELS:
        side = math.floor(longest * math.sqrt(settings.JOB_MAX_PIXELS / (width * height)))
    while math.prod(picture_size(width, height, side)) > settings.JOB_MAX_PIXELS:  # the short side rounded up
        side -= 1
    return side


def describe_seconds(seconds: float) -> str:
    if seconds < 1:
        return "under 1 s"
    if seconds < 90:
        return f"about {round(seconds)} s"
    return f"about {round(seconds / 30) / 2:g} min"


@dataclass(frozen=True)
class Timings:
    """The bench's latencies for the engine's methods as the site runs them."""

    written: str  # when the bench ran, e.g. "2026-12-04 10:58 UTC"
    machine: str  # e.g. "AMD EPYC, 2 cores"
    points: dict[str, tuple[tuple[int, float], ...]]  # method -> (pixels, seconds), by pixels

    def seconds(self, method: str, pixels: int) -> tuple[float, bool] | None:
        """The expected seconds for a picture of ``pixels``, and whether it is only an upper bound (a picture smaller
        than the smallest measured); None beyond the largest measured, or for a method the bench did not measure."""
        points = self.points.get(method, ())
        if not points or pixels > points[-1][0]:
            return None
        if pixels < points[0][0]:
            return points[0][1], True
        for (low, low_s), (high, high_s) in zip(points, points[1:]):
            if pixels <= high:
                return low_s + (high_s - low_s) * (pixels - low) / (high - low), False
        return points[0][1], False  # exactly the one measured size

    def describe(self, method: str, pixels: int, *, at_most: bool = False) -> str:
        """"about 4 s"; "up to about 17 s" below the smallest measured size, or with ``at_most`` (a picture of at
        most ``pixels``); "" where the bench has no figure."""
        estimate = self.seconds(method, pixels)
        if estimate is None:
            return ""
        seconds, upper_bound = estimate
        text = describe_seconds(seconds)
        return f"up to {text}" if (upper_bound or at_most) and seconds >= 1 else text

    def for_page(self) -> dict:
        """The figures as static/gallery/sizes.js reads them."""
        return {method: [list(point) for point in points] for method, points in self.points.items()}


def read_timings() -> Timings | None:
    """The bench's figures from settings.BENCHMARKS_JSON, re-read when the file changes; None without a usable file."""
    path = Path(settings.BENCHMARKS_JSON)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = None
    return _read_timings(path, stamp)


@lru_cache(maxsize=4)
def _read_timings(path: Path, stamp: int | None) -> Timings | None:
    if stamp is None:
        log.warning("No bench figures at %s, so the form shows no expected times; `python -m benchmarks bench` "
                    "writes them", path)
        return None
    try:
        data = json.loads(path.read_text())
        cases = [case for case in data["cases"] if case["seconds"] is not None]
        points = {}
        for method, name in data["engine_methods"].items():
            measured = sorted((int(c["width"]) * int(c["height"]), float(c["seconds"])) for c in cases
                              if c["case"] == name)
            if method in METHODS and measured:
                points[method] = tuple(measured)
        machine = data["machine"]
        return Timings(written=str(data["written"]), machine=f"{machine['CPU']}, {machine['cores']} cores",
                       points=points)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.error("The bench figures at %s cannot be read (%r), so the form shows no expected times", path, exc)
        return None


@dataclass(frozen=True)
class SizeOption:
    """One size of the form: its radio button and, per method, the expected time or why the method cannot paint it."""

    radio: object  # the BoundWidget of the radio button
    times: tuple[tuple[str, str], ...]  # (method, text)
    unavailable: frozenset[str]  # methods that do not paint this size


def size_options(field, timings: Timings | None) -> list[SizeOption]:
    """The form's size radio buttons (``form["max_side"]``) with their expected times. A given size is shown with
    the time of a square picture, the most pixels it can have; the photo's own size gets its time in the page."""
    options = []
    for radio in field:
        value = str(radio.data["value"])
        side = None if value == OWN_SIZE else int(value)
        times, unavailable = [], set()
        for method in METHODS:
            if method == "optimize" and side and side > settings.JOB_OPTIMIZE_MAX_SIDE:
                unavailable.add(method)
                text = f"not for optimisation, which paints {settings.JOB_OPTIMIZE_MAX_SIDE} px at most"
            elif side and timings:
                text = timings.describe(method, side * side, at_most=True)
            else:
                text = ""
            times.append((method, text))
        options.append(SizeOption(radio=radio, times=tuple(times), unavailable=frozenset(unavailable)))
    return options
