// Paints a fast preset on the visitor's own device. onnxruntime-web runs the very ONNX network the workers run, fed
// as stylecore feeds it (inference.py _fast, arrays.py): RGB in 0-1 as (1, 3, H, W), reflection-padded by 16 px and
// on the bottom/right up to a multiple of 4, cropped back; then the photo's colours and the strength as
// Engine.stylize applies them, and a clamp to 0-1. WebGPU when the browser has an adapter, WebAssembly otherwise.
(function () {
  "use strict";
  const MARGIN = 16; // stylecore.inference._MARGIN
  const MULTIPLE = 4; // the network downsamples by 4
  const EPS = 1e-5;
  const RGB_TO_YIQ = [[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]];
  const YIQ_TO_RGB = [[1.0, 0.956, 0.621], [1.0, -0.272, -0.647], [1.0, -1.106, 1.703]];
  let runtime = null;
  const sessions = new Map(); // network URL -> Promise<InferenceSession>

  // builds: {wasm: {module, loader, binary}, webgpu: {...}}, the static URLs of onnxruntime-web's files.
  function loadRuntime(builds) {
    runtime = runtime || (async () => {
      const found = navigator.gpu ? await navigator.gpu.requestAdapter().catch(() => null) : null;
      // A fallback adapter is a software one (SwiftShader): about 90x slower than WebAssembly on this network.
      const adapter = found && !(found.info && found.info.isFallbackAdapter) && !found.isFallbackAdapter ? found : null;
      const build = adapter ? builds.webgpu : builds.wasm;
      const ort = await import(build.module);
      ort.env.wasm.wasmPaths = { mjs: build.loader, wasm: build.binary };
      return { ort, providers: adapter ? ["webgpu", "wasm"] : ["wasm"], backend: adapter ? "WebGPU" : "WebAssembly" };
    })();
    return runtime;
  }

  async function session(builds, networkUrl) {
    const { ort, providers } = await loadRuntime(builds);
    if (!sessions.has(networkUrl)) {
      const created = ort.InferenceSession.create(networkUrl, { executionProviders: providers });
      created.catch(() => sessions.delete(networkUrl)); // a failed download is tried again next time
      sessions.set(networkUrl, created);
    }
    return sessions.get(networkUrl);
  }

  // numpy.pad's "reflect" (no edge repeat) or "edge", as arrays.pad_for_network picks them.
  function sourceIndex(index, size, reflect) {
    if (!reflect) return Math.min(size - 1, Math.max(0, index));
    if (index < 0) return -index;
    return index >= size ? 2 * (size - 1) - index : index;
  }

  // ImageData -> the photo as planes (3, h, w) in 0-1, and the padded network input.
  function prepare(image) {
    const { width, height, data } = image;
    const photo = new Float32Array(3 * width * height);
    for (let i = 0; i < width * height; i += 1) {
      for (let c = 0; c < 3; c += 1) photo[c * width * height + i] = data[4 * i + c] / 255;
    }
    const margin = Math.min(MARGIN, height - 1, width - 1);
    const padH = (MULTIPLE - ((height + 2 * margin) % MULTIPLE)) % MULTIPLE;
    const padW = (MULTIPLE - ((width + 2 * margin) % MULTIPLE)) % MULTIPLE;
    const reflect = margin + padH < height && margin + padW < width;
    const H = height + 2 * margin + padH;
    const W = width + 2 * margin + padW;
    const input = new Float32Array(3 * H * W);
    for (let y = 0; y < H; y += 1) {
      const row = sourceIndex(y - margin, height, reflect) * width;
      for (let x = 0; x < W; x += 1) {
        const from = row + sourceIndex(x - margin, width, reflect);
        for (let c = 0; c < 3; c += 1) input[(c * H + y) * W + x] = photo[c * width * height + from];
      }
    }
    return { photo, input, margin, H, W };
  }

  // arrays.preserve_color: the painted luminance, matched to the photo's mean and spread, with the photo's I and Q.
  function keepColors(photo, painted, n) {
    const luma = (planes, i) => RGB_TO_YIQ[0].reduce((sum, k, c) => sum + k * planes[c * n + i], 0);
    const stats = (planes) => {
      let sum = 0;
      let squares = 0;
      for (let i = 0; i < n; i += 1) {
        const y = luma(planes, i);
        sum += y;
        squares += y * y;
      }
      const mean = sum / n;
      return { mean, std: Math.sqrt(Math.max(0, squares / n - mean * mean) + EPS) };
    };
    const s = stats(painted);
    const p = stats(photo);
    const out = new Float32Array(3 * n);
    for (let i = 0; i < n; i += 1) {
      const yiq = [((luma(painted, i) - s.mean) / s.std) * p.std + p.mean];
      for (let k = 1; k < 3; k += 1) yiq.push(RGB_TO_YIQ[k].reduce((sum, w, c) => sum + w * photo[c * n + i], 0));
      for (let c = 0; c < 3; c += 1) {
        const value = YIQ_TO_RGB[c][0] * yiq[0] + YIQ_TO_RGB[c][1] * yiq[1] + YIQ_TO_RGB[c][2] * yiq[2];
        out[c * n + i] = Math.min(1, Math.max(0, value));
      }
    }
    return out;
  }

  // Paints an ImageData with the preset network at networkUrl; resolves to {image: ImageData, backend}.
  async function paint(builds, networkUrl, image, { strength = 1, preserveColor = false } = {}) {
    const { ort, backend } = await loadRuntime(builds);
    const net = await session(builds, networkUrl);
    const { photo, input, margin, H, W } = prepare(image);
    const results = await net.run({ image: new ort.Tensor("float32", input, [1, 3, H, W]) });
    const output = results.stylized.data;
    const { width, height } = image;
    const n = width * height;
    let painted = new Float32Array(3 * n);
    for (let c = 0; c < 3; c += 1) {
      for (let y = 0; y < height; y += 1) {
        const from = (c * H + y + margin) * W + margin;
        painted.set(output.subarray(from, from + width), c * n + y * width);
      }
    }
    if (preserveColor) painted = keepColors(photo, painted, n);
    const result = new ImageData(width, height);
    for (let i = 0; i < n; i += 1) {
      for (let c = 0; c < 3; c += 1) {
        const value = strength * painted[c * n + i] + (1 - strength) * photo[c * n + i];
        result.data[4 * i + c] = Math.round(255 * Math.min(1, Math.max(0, value)));
      }
      result.data[4 * i + 3] = 255;
    }
    return { image: result, backend };
  }

  window.AtelierDevice = { paint };
})();
