// Pillow's Lanczos resize, as stylecore resizes photos and paintings (Image.resize with Resampling.LANCZOS), so that
// a picture painted on the visitor's device starts from the very pixels the engine starts from. The filter, its
// support, the span of input pixels each output pixel reads and the normalised weights follow Pillow's
// libImaging/Resample.c: two passes, horizontal (only over the rows the vertical pass reads) then vertical; 8-bit
// images sum in fixed point with 22 fractional bits and clip, float images sum in doubles and store float32 (the
// "F" mode of stylecore.arbitrary.resized).
(function () {
  "use strict";
  const SUPPORT = 3; // Lanczos-3
  const PRECISION_BITS = 32 - 8 - 2;
  const HALF = 1 << (PRECISION_BITS - 1);

  function sinc(x) {
    if (x === 0) return 1;
    const t = x * Math.PI;
    return Math.sin(t) / t;
  }

  const lanczos = (x) => (x >= -SUPPORT && x < SUPPORT ? sinc(x) * sinc(x / SUPPORT) : 0);

  // Per output position: the first input index read, how many are read, and their weights (summing to 1).
  function coefficients(inSize, outSize) {
    const scale = inSize / outSize;
    const filterScale = Math.max(scale, 1);
    const support = SUPPORT * filterScale;
    const size = Math.ceil(support) * 2 + 1;
    const first = new Int32Array(outSize);
    const count = new Int32Array(outSize);
    const weights = new Float64Array(outSize * size);
    const inverse = 1 / filterScale;
    for (let o = 0; o < outSize; o += 1) {
      const center = (o + 0.5) * scale;
      const low = Math.max(0, Math.trunc(center - support + 0.5));
      const n = Math.min(inSize, Math.trunc(center + support + 0.5)) - low;
      let total = 0;
      for (let i = 0; i < n; i += 1) {
        const w = lanczos((i + low - center + 0.5) * inverse);
        weights[o * size + i] = w;
        total += w;
      }
      if (total !== 0) for (let i = 0; i < n; i += 1) weights[o * size + i] /= total;
      first[o] = low;
      count[o] = n;
    }
    return { first, count, weights, size };
  }

  function fixedPoint(weights) {
    const fixed = new Int32Array(weights.length);
    for (let i = 0; i < weights.length; i += 1) {
      const scaled = weights[i] * (1 << PRECISION_BITS);
      fixed[i] = Math.trunc(weights[i] < 0 ? scaled - 0.5 : scaled + 0.5);
    }
    return fixed;
  }

  // Along rows: each output pixel of a row reads `count` neighbours of that row. Rows `offset` onwards of the input.
  function horizontalPass(input, output, rows, width, outWidth, channels, offset, coeffs, store) {
    const { first, count, weights, size } = coeffs;
    for (let y = 0; y < rows; y += 1) {
      const row = (y + offset) * width * channels;
      const outRow = y * outWidth * channels;
      for (let o = 0; o < outWidth; o += 1) {
        const from = row + first[o] * channels;
        const k = o * size;
        for (let c = 0; c < channels; c += 1) {
          let sum = 0;
          for (let i = 0, at = from + c; i < count[o]; i += 1, at += channels) sum += input[at] * weights[k + i];
          output[outRow + o * channels + c] = store(sum);
        }
      }
    }
  }

  // Along columns: each output row mixes `count` input rows, value by value (`rowLength` values a row).
  function verticalPass(input, output, rowLength, outHeight, coeffs, store) {
    const { first, count, weights, size } = coeffs;
    for (let o = 0; o < outHeight; o += 1) {
      const from = first[o] * rowLength;
      const k = o * size;
      for (let x = 0; x < rowLength; x += 1) {
        let sum = 0;
        for (let i = 0, at = from + x; i < count[o]; i += 1, at += rowLength) sum += input[at] * weights[k + i];
        output[o * rowLength + x] = store(sum);
      }
    }
  }

  // values: width x height pixels of `channels` interleaved values; returns the resized values in a new array
  // made by `allocate(length)`. `fixed`: 8-bit arithmetic.
  function resize(values, width, height, outWidth, outHeight, channels, fixed, allocate) {
    const vertical = coefficients(height, outHeight);
    const horizontal = outWidth !== width ? coefficients(width, outWidth) : null;
    const store = fixed ? (sum) => Math.min(255, Math.max(0, (sum + HALF) >> PRECISION_BITS)) : (sum) => sum;
    if (fixed) {
      vertical.weights = fixedPoint(vertical.weights);
      if (horizontal) horizontal.weights = fixedPoint(horizontal.weights);
    }
    let source = values;
    if (horizontal) {
      // Only the rows the vertical pass reads.
      const top = vertical.first[0];
      const bottom = vertical.first[outHeight - 1] + vertical.count[outHeight - 1];
      source = allocate(outWidth * (bottom - top) * channels);
      horizontalPass(values, source, bottom - top, width, outWidth, channels, top, horizontal, store);
      for (let o = 0; o < outHeight; o += 1) vertical.first[o] -= top;
    }
    if (outHeight === height) return horizontal ? source : values.slice();
    const out = allocate(outWidth * outHeight * channels);
    verticalPass(source, out, outWidth * channels, outHeight, vertical, store);
    return out;
  }

  // An RGBA ImageData at width x height, as Pillow resizes an RGB image (the alpha comes back opaque).
  function resizeImage(image, width, height) {
    if (width === image.width && height === image.height) return image;
    const out = resize(image.data, image.width, image.height, width, height, 4, true, (n) => new Uint8ClampedArray(n));
    for (let i = 3; i < out.length; i += 4) out[i] = 255;
    return new ImageData(out, width, height);
  }

  // Float32 planes (channels, height, width) at (channels, outHeight, outWidth), each plane as a float image.
  function resizePlanes(planes, channels, height, width, outHeight, outWidth) {
    const out = new Float32Array(channels * outHeight * outWidth);
    for (let c = 0; c < channels; c += 1) {
      const plane = planes.subarray(c * height * width, (c + 1) * height * width);
      out.set(resize(plane, width, height, outWidth, outHeight, 1, false, (n) => new Float32Array(n)), c * outHeight * outWidth);
    }
    return out;
  }

  // stylecore.imageio.fit_within: shrunk (never enlarged) to at most `side` px on its longest side, the sides
  // rounded as Python rounds them.
  function fitWithin(image, side) {
    const longest = Math.max(image.width, image.height);
    if (longest <= side) return image;
    const scale = side / longest;
    const { rint } = window.AtelierPixels;
    return resizeImage(image, Math.max(1, rint(image.width * scale)), Math.max(1, rint(image.height * scale)));
  }

  window.AtelierResample = { resizeImage, resizePlanes, fitWithin };
})();
