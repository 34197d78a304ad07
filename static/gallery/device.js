// Paints on the visitor's own device with onnxruntime-web: the very ONNX files the workers run, fed as stylecore feeds
// them, so that the device's picture is the server's picture.
// - A fast preset (inference.py _fast): RGB in 0-1 as (1, 3, H, W), reflection-padded by 16 px and on the
//   bottom/right up to a multiple of 4, cropped back.
// - Any style (arbitrary.py, MicroAST's four graphs): each painting resized as style_array resizes it (resample.js)
//   and encoded into a code by style.onnx, the codes blended by weight; the photo painted at the brush's share of its
//   size and resized back (arbitrary.resized); encoder, modulate and decoder with the features' per-channel mean and
//   std computed here between them (feature_stats). Above 1.5 MP in tiles, in three passes, each pass's statistics
//   gathered from the part of every tile that it alone owns (ArbitraryStylizer._stylize_tiled): the tiles equal a
//   whole render, and no tile needs more memory than a 1088 px picture.
// Both clip to 0-1 and round to 8 bits: the full-strength render a worker keeps, from which pixels.js dials the
// picture for a strength and colour setting as the worker does. WebGPU when the browser has an adapter, WebAssembly
// otherwise.
(function () {
  "use strict";
  const { rint, clip, dialImage } = window.AtelierPixels;
  const { resizeImage, resizePlanes } = window.AtelierResample;
  const FAST_MARGIN = 16; // stylecore.inference._MARGIN
  const FAST_MULTIPLE = 4; // the preset network downsamples by 4
  // stylecore.arbitrary and its EngineConfig fields
  const SCALE = 4; // MicroAST's features are at 1/4 of the image's resolution
  const EPS = 1e-5;
  const DEFAULT_STYLE_SCALE = 512;
  const MAX_WORKING_SIDE = 6144;
  const STYLE_ASPECT_CAP = 3;
  const TILE_ABOVE = 1500000; // arbitrary_tile_above
  const TILE = 1088; // arbitrary_tile
  const TILE_OVERLAP = 128; // arbitrary_tile_overlap
  let runtime = null;
  const sessions = new Map(); // network URL -> Promise<InferenceSession>
  const codes = new WeakMap(); // painting ImageData -> style scale -> Promise<code>: a slider move re-encodes nothing

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

  // Tensors here are {data: Float32Array, dims}; images (1, C, H, W).
  async function run(ort, net, inputs) {
    const feeds = {};
    for (const [name, { data, dims }] of Object.entries(inputs)) feeds[name] = new ort.Tensor("float32", data, dims);
    const results = await net.run(feeds);
    const { data, dims } = results[net.outputNames[0]];
    return { data, dims: Array.from(dims) };
  }

  // ImageData -> (1, 3, H, W) in 0-1, as stylecore.imageio.to_array (float32 division).
  function toTensor(image) {
    const { width, height, data } = image;
    const n = width * height;
    const out = new Float32Array(3 * n);
    for (let i = 0; i < n; i += 1) {
      for (let c = 0; c < 3; c += 1) out[c * n + i] = data[4 * i + c] / 255;
    }
    return { data: out, dims: [1, 3, height, width] };
  }

  // (1, 3, H, W) -> ImageData, clipped to 0-1 and rounded as stylecore.imageio.from_array.
  function toImage({ data, dims: [, , height, width] }) {
    const n = width * height;
    const image = new ImageData(width, height);
    for (let i = 0; i < n; i += 1) {
      for (let c = 0; c < 3; c += 1) image.data[4 * i + c] = rint(Math.fround(clip(data[c * n + i]) * 255));
      image.data[4 * i + 3] = 255;
    }
    return image;
  }

  // numpy.pad's "reflect" (no edge repeat) or "edge", as arrays.pad_for_network picks them.
  function sourceIndex(index, size, reflect) {
    if (!reflect) return Math.min(size - 1, Math.max(0, index));
    if (index < 0) return -index;
    return index >= size ? 2 * (size - 1) - index : index;
  }

  // arrays.pad_for_network: reflection-padded by `margin` on every side, then on the bottom/right up to a multiple.
  function pad({ data, dims: [, channels, height, width] }, multiple, marginAsked) {
    const margin = Math.min(marginAsked, height - 1, width - 1);
    const padH = (multiple - ((height + 2 * margin) % multiple)) % multiple;
    const padW = (multiple - ((width + 2 * margin) % multiple)) % multiple;
    const reflect = margin + padH < height && margin + padW < width;
    const H = height + 2 * margin + padH;
    const W = width + 2 * margin + padW;
    const out = new Float32Array(channels * H * W);
    for (let y = 0; y < H; y += 1) {
      const row = sourceIndex(y - margin, height, reflect) * width;
      for (let x = 0; x < W; x += 1) {
        const from = row + sourceIndex(x - margin, width, reflect);
        for (let c = 0; c < channels; c += 1) out[(c * H + y) * W + x] = data[c * height * width + from];
      }
    }
    return { tensor: { data: out, dims: [1, channels, H, W] }, margin };
  }

  // The (1, C, height, width) part of a tensor from (top, left).
  function crop({ data, dims: [, channels, H, W] }, top, left, height, width) {
    const out = new Float32Array(channels * height * width);
    for (let c = 0; c < channels; c += 1) {
      for (let y = 0; y < height; y += 1) {
        const from = (c * H + top + y) * W + left;
        out.set(data.subarray(from, from + width), (c * height + y) * width);
      }
    }
    return { data: out, dims: [1, channels, height, width] };
  }

  function resized({ data, dims: [, channels, height, width] }, [outHeight, outWidth]) {
    return { data: resizePlanes(data, channels, height, width, outHeight, outWidth), dims: [1, channels, outHeight, outWidth] };
  }

  async function fastPainter(builds, url) {
    const { ort } = await loadRuntime(builds);
    const net = await session(builds, url);
    return async (image) => {
      const { tensor, margin } = pad(toTensor(image), FAST_MULTIPLE, FAST_MARGIN);
      const output = await run(ort, net, { image: tensor });
      return toImage(crop(output, margin, margin, image.height, image.width));
    };
  }

  // arbitrary.feature_stats: per-channel mean and std (each (1, C)) of parts of features taken together, the std
  // from the unbiased variance plus EPS, summed in doubles. parts: [{tensor, top, left, height, width}].
  function featureStats(parts) {
    const channels = parts[0].tensor.dims[1];
    const total = new Float64Array(channels);
    const squares = new Float64Array(channels);
    let count = 0;
    for (const { tensor: { data, dims: [, , H, W] }, top, left, height, width } of parts) {
      count += height * width;
      for (let c = 0; c < channels; c += 1) {
        let sum = 0;
        let square = 0;
        for (let y = top; y < top + height; y += 1) {
          for (let x = (c * H + y) * W + left, end = x + width; x < end; x += 1) {
            sum += data[x];
            square += data[x] * data[x];
          }
        }
        total[c] += sum;
        squares[c] += square;
      }
    }
    const mean = new Float32Array(channels);
    const std = new Float32Array(channels);
    for (let c = 0; c < channels; c += 1) {
      const m = total[c] / count;
      const variance = (squares[c] - count * m ** 2) / Math.max(count - 1, 1);
      mean[c] = m;
      std[c] = Math.sqrt(Math.max(variance, 0) + EPS);
    }
    return { mean: { data: mean, dims: [1, channels] }, std: { data: std, dims: [1, channels] } };
  }

  // arrays._spans: the fewest tiles of at most `tile` px covering `size` with `overlap` px shared, spread evenly, their
  // starts on the network's stride grid.
  function spans(size, tile, overlap) {
    if (size <= tile) return { starts: [0], length: size };
    const n = Math.ceil((size - overlap) / (tile - overlap));
    const needed = Math.ceil((size + (n - 1) * overlap) / n);
    const length = Math.min(tile, Math.ceil(needed / SCALE) * SCALE);
    const starts = Array.from({ length: n }, (_, i) => SCALE * rint((i * (size - length)) / (n - 1) / SCALE));
    return { starts, length };
  }

  // arrays._owned: per tile, the span in its own coordinates that it alone owns (overlaps split at their middle).
  function owned({ starts, length }, size) {
    const ends = starts.map((start) => Math.min(start + length, size));
    const cuts = [0, ...starts.slice(1).map((start, i) => SCALE * rint((start + ends[i]) / 2 / SCALE)), size];
    return starts.map((start, i) => [cuts[i] - start, cuts[i + 1] - start]);
  }

  // arrays.tiles for a padded image: each tile's box and the box within it that it owns, row by row. The image and
  // the tiles are multiples of SCALE, so no tile needs the edge padding arrays._patch could add.
  function tiles(height, width, tile) {
    const rows = spans(height, tile, TILE_OVERLAP);
    const cols = spans(width, tile, TILE_OVERLAP);
    const ownedRows = owned(rows, height);
    const ownedCols = owned(cols, width);
    return rows.starts.flatMap((top, r) => cols.starts.map((left, c) => ({
      top, left, height: Math.min(rows.length, height - top), width: Math.min(cols.length, width - left),
      core: { top: ownedRows[r][0], left: ownedCols[c][0], height: ownedRows[r][1] - ownedRows[r][0], width: ownedCols[c][1] - ownedCols[c][0] },
    })));
  }

  // ArbitraryStylizer._paint and _stylize_tiled: (1, 3, h, w) in 0-1 in the style `code`, same shape. A picture that
  // needs no tiles is one tile that owns all of itself, which is the untiled render.
  async function paintInTiles(ort, nets, x, code) {
    const [h, w] = x.dims.slice(2);
    const { tensor: padded } = pad(x, SCALE, 0);
    const [H, W] = padded.dims.slice(2);
    const patches = tiles(H, W, h * w > TILE_ABOVE ? TILE : Math.max(H, W));
    const ownedPart = (tensor, { core }) => ({
      tensor, top: core.top / SCALE, left: core.left / SCALE, height: core.height / SCALE, width: core.width / SCALE,
    });
    const features = [];
    for (const patch of patches) {
      features.push(await run(ort, nets.encoder, { image: crop(padded, patch.top, patch.left, patch.height, patch.width) }));
    }
    let stats = featureStats(features.map((tensor, i) => ownedPart(tensor, patches[i])));
    for (let i = 0; i < features.length; i += 1) {
      features[i] = await run(ort, nets.modulate, { features: features[i], ...stats, code }); // the tile's hidden features
    }
    stats = featureStats(features.map((tensor, i) => ownedPart(tensor, patches[i])));
    const out = { data: new Float32Array(3 * H * W), dims: [1, 3, H, W] };
    for (let i = 0; i < features.length; i += 1) {
      const tile = await run(ort, nets.decoder, { hidden: features[i], ...stats, code });
      features[i] = null; // frees the tile's features as soon as it is painted
      const { top, left, core } = patches[i];
      const part = crop(tile, core.top, core.left, core.height, core.width);
      for (let c = 0; c < 3; c += 1) {
        for (let y = 0; y < core.height; y += 1) {
          const from = (c * core.height + y) * core.width;
          out.data.set(part.data.subarray(from, from + core.width), (c * H + top + core.top + y) * W + left + core.left);
        }
      }
    }
    return crop(out, 0, 0, h, w);
  }

  // One painting's code (1, 8, 64), encoded at `scale` px on its short side as arbitrary.style_array sizes it.
  function styleCode(ort, net, painting, scale) {
    if (!codes.has(painting)) codes.set(painting, new Map());
    const byScale = codes.get(painting);
    if (!byScale.has(scale)) {
      const { width, height } = painting;
      const factor = Math.min(scale / Math.min(width, height), (STYLE_ASPECT_CAP * scale) / Math.max(width, height));
      const sized = resizeImage(painting, Math.max(1, rint(width * factor)), Math.max(1, rint(height * factor)));
      const code = run(ort, net, { painting: toTensor(sized) });
      code.catch(() => byScale.delete(scale));
      byScale.set(scale, code);
    }
    return byScale.get(scale);
  }

  // ArbitraryStylizer.style_code's blend: the weighted mean of the codes, the weights normalised, in float32.
  async function blendedCode(ort, net, paintings, weights, scale) {
    const each = await Promise.all(paintings.map((painting) => styleCode(ort, net, painting, scale)));
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    const data = new Float32Array(each[0].data.length);
    each.forEach((code, index) => {
      const share = Math.fround(weights[index] / total);
      for (let i = 0; i < data.length; i += 1) data[i] = data[i] + Math.fround(share * code.data[i]);
    });
    return { data, dims: each[0].dims };
  }

  // graphs: {style, encoder, modulate, decoder} URLs; paintings: ImageData, blended by weights; styleScale: the brush.
  async function anyStylePainter(builds, { graphs, paintings, weights, styleScale }) {
    const { ort } = await loadRuntime(builds);
    const names = Object.keys(graphs);
    const loaded = await Promise.all(names.map((name) => session(builds, graphs[name])));
    const nets = Object.fromEntries(names.map((name, i) => [name, loaded[i]]));
    const code = await blendedCode(ort, nets.style, paintings, weights || paintings.map(() => 1), styleScale);
    // ArbitraryStylizer.stylize: painted at the brush's share of the size asked, then resized to it.
    return async (image) => {
      const x = toTensor(image);
      const size = [image.height, image.width];
      const factor = Math.min(styleScale / DEFAULT_STYLE_SCALE, MAX_WORKING_SIDE / Math.max(...size));
      const working = size.map((side) => Math.max(SCALE, rint(side * factor)));
      if (working[0] === size[0] && working[1] === size[1]) return toImage(await paintInTiles(ort, nets, x, code));
      return toImage(resized(await paintInTiles(ort, nets, resized(x, working), code), size));
    };
  }

  // The full-strength render of an ImageData, as a worker keeps it: {render: ImageData, backend, seconds}. network:
  // {kind: "fast", url} or {kind: "arbitrary", graphs, paintings, weights, styleScale}. The seconds are the photo's:
  // they leave out what a browser does once, downloading and compiling onnxruntime-web and the networks and encoding
  // a painting at a brush.
  async function render(builds, network, image) {
    const { backend } = await loadRuntime(builds);
    const painter = network.kind === "fast" ? await fastPainter(builds, network.url) : await anyStylePainter(builds, network);
    const started = performance.now();
    const painted = await painter(image);
    return { render: painted, backend, seconds: (performance.now() - started) / 1000 };
  }

  // The picture at a strength and colour setting: {image, render, backend, seconds}.
  async function paint(builds, network, image, { strength = 1, preserveColor = false } = {}) {
    const rendered = await render(builds, network, image);
    return { ...rendered, image: dialImage(image, rendered.render, strength, preserveColor) };
  }

  window.AtelierDevice = { render, paint };
})();
