"""Time a fast preset or any style painted in headless Chromium by onnxruntime-web (static/gallery/device.js), as
the new-picture form paints it on a visitor's device, and compare each render with the engine's render of the same
photo.

    .venv/bin/python -m scripts.device_timing --sizes 512 1024 --repeats 5
    .venv/bin/python -m scripts.device_timing --method arbitrary --sizes 512 1024 --repeats 5

Serves this repository's files on a local port (static/, vendor/ from `make vendor`, weights/); no database.
"""

import argparse
import base64
import functools
import io
import statistics
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from matplotlib import cbook
from PIL import Image
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
VENDOR = "vendor/onnxruntime-web"
# onnxruntime-web's files by build, as the form's data-ort-* attributes give their static URLs.
BUILDS = {
    "wasm": {"module": "ort.wasm.min.mjs", "loader": "ort-wasm-simd-threaded.mjs",
             "binary": "ort-wasm-simd-threaded.wasm"},
    "webgpu": {"module": "ort.webgpu.min.mjs", "loader": "ort-wasm-simd-threaded.asyncify.mjs",
               "binary": "ort-wasm-simd-threaded.asyncify.wasm"},
}
SCRIPTS = ("pixels.js", "resample.js", "device.js")  # static/gallery/, in the order the form loads them
GRAPHS = ("style", "encoder", "modulate", "decoder")
# Paints a PNG data URL with AtelierDevice.paint; answers the result as a base64 PNG and the seconds paint() took.
# Paintings are data URLs too, decoded once per page, so that later paintings reuse their codes as the form does.
PAINT = """async ([builds, network, photo, options]) => {
  async function pixels(url) {
    const element = new Image();  // img-src admits data: URLs; the page's CSP keeps fetch() to its own origin
    element.src = url;
    await element.decode();
    const bitmap = await createImageBitmap(element);
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext("2d");
    context.drawImage(bitmap, 0, 0);
    return context.getImageData(0, 0, bitmap.width, bitmap.height);
  }
  window.decodedPaintings = window.decodedPaintings || new Map();
  for (const url of network.paintings || []) {
    if (!window.decodedPaintings.has(url)) window.decodedPaintings.set(url, await pixels(url));
  }
  const paintings = (network.paintings || []).map((url) => window.decodedPaintings.get(url));
  const image = await pixels(photo);
  const started = performance.now();
  const painted = await window.AtelierDevice.paint(builds, { ...network, paintings }, image, options);
  const seconds = (performance.now() - started) / 1000;
  const canvas = new OffscreenCanvas(image.width, image.height);
  canvas.getContext("2d").putImageData(painted.image, 0, 0);
  const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: "image/png" })).arrayBuffer());
  return { backend: painted.backend, seconds, png: btoa(Array.from(bytes, (byte) => String.fromCharCode(byte)).join("")) };
}"""


def photo(side: int) -> Image.Image:
    """A real photo (Grace Hopper, from matplotlib's sample data), resized so its longest side is ``side`` px."""
    with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as image:
        scale = side / max(image.size)
        return image.convert("RGB").resize((round(image.width * scale), round(image.height * scale)),
                                           Image.Resampling.LANCZOS)


def data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def fast_network(url: str) -> dict:
    """AtelierDevice.paint's ``network`` for the preset network at ``url``."""
    return {"kind": "fast", "url": url}


def arbitrary_network(url_of, paintings: list[Image.Image], style_scale: int = 512,
                      weights: list[float] | None = None) -> dict:
    """``network`` for any style: the graphs at ``url_of(graph)``, the paintings blended by ``weights``, the brush."""
    return {"kind": "arbitrary", "graphs": {graph: url_of(graph) for graph in GRAPHS},
            "paintings": [data_url(painting) for painting in paintings], "weights": weights, "styleScale": style_scale}


def paint_in_page(page, builds: dict, network: dict, image: Image.Image,
                  **options) -> tuple[Image.Image, str, float]:
    """Paint ``image`` in the page (which has loaded SCRIPTS). Returns the painting, the backend and the seconds."""
    result = page.evaluate(PAINT, [builds, network, data_url(image), options])
    painted = Image.open(io.BytesIO(base64.b64decode(result["png"]))).convert("RGB")
    return painted, result["backend"], result["seconds"]


def builds(url_of) -> dict:
    """AtelierDevice.paint's ``builds`` argument: ``url_of(file name)`` is a file's URL."""
    return {name: {part: url_of(file) for part, file in files.items()} for name, files in BUILDS.items()}


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference in 0-255 levels of two RGB images of one size."""
    assert a.size == b.size, (a.size, b.size)
    return float(np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).mean())


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:
        pass


def main() -> None:
    from stylecore import Engine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", choices=["fast", "arbitrary"], default="fast")
    parser.add_argument("--preset", default="starry_night", help="the fast preset, or whose painting any style paints")
    parser.add_argument("--style-scale", type=int, default=512, help="any style's brush (768 fine, 320 bold)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(ROOT)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    ort = builds(lambda file: f"{base}/{VENDOR}/{file}")
    engine = Engine.load(ROOT / "weights")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                 args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.goto(f"{base}/static/")
            for script in SCRIPTS:
                page.add_script_tag(url=f"{base}/static/gallery/{script}")
            if args.method == "fast":
                network, name = fast_network(f"{base}/weights/presets/{args.preset}.onnx"), args.preset
                options = {"preset": args.preset}
            else:
                with Image.open(ROOT / "weights" / "presets" / f"{args.preset}.style.jpg") as opened:
                    painting = opened.convert("RGB")
                network = arbitrary_network(lambda graph: f"{base}/weights/arbitrary/{graph}.onnx", [painting],
                                            args.style_scale)
                name = f"any style, {args.preset}'s painting, brush {args.style_scale},"
                options = {"style": painting, "style_scale": args.style_scale}
            for size in args.sizes:
                image = photo(size)
                # The first also compiles (and for any style encodes the painting, which later runs reuse).
                painted, backend, first = paint_in_page(page, ort, network, image)
                times = [paint_in_page(page, ort, network, image)[2] for _ in range(args.repeats)]
                expected = engine.stylize(image, method=args.method, max_side=size, **options)
                print(f"{name} {image.width}x{image.height} on {backend}: median {statistics.median(times):.2f} s"
                      f" (min {min(times):.2f}, first {first:.2f}, {args.repeats} runs); mean difference from the"
                      f" engine {mean_difference(painted, expected):.3f} / 255")
            browser.close()
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
