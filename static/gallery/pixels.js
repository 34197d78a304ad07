// Pixels as the engine reads and writes them, for the re-dial control (redial.js) and pictures painted on the
// visitor's device (device.js): image files decoded without colour management, and the engine's last two steps on a
// full-strength render with its own arithmetic (stylecore.arrays apply_settings and preserve_color,
// stylecore.imageio from_array): the photo's colours kept, then a blend of the strength toward the photo, from the
// 8-bit photo and the 8-bit render, as a worker dials its result from the render it keeps (stylecore.redial).
(function () {
  "use strict";
  const f = Math.fround; // numpy works in float32: round where it does, so edge values land on the same level
  const EPS = 1e-5; // stylecore.arrays._EPS

  // An image file (a Blob) as RGBA ImageData: oriented by its EXIF data, transparency flattened onto white (as
  // stylecore.imageio.to_rgb), and no colour management or premultiplied alpha: the engine reads the bytes as they are.
  async function decode(blob) {
    const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.fillStyle = "#fff";
    context.fillRect(0, 0, bitmap.width, bitmap.height);
    context.drawImage(bitmap, 0, 0);
    bitmap.close();
    return context.getImageData(0, 0, canvas.width, canvas.height);
  }

  // The luminance transfer of stylecore.arrays.preserve_color: the render's Y matched to the photo's Y mean and
  // standard deviation over the whole image, with the photo's I and Q; clipped to 0-1.
  function luminanceStats(data) {
    const count = data.length / 4;
    const y = new Float64Array(count);
    let sum = 0;
    for (let p = 0, i = 0; p < count; p += 1, i += 4) {
      y[p] = (0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2]) / 255;
      sum += y[p];
    }
    const mean = sum / count;
    let squares = 0;
    for (let p = 0; p < count; p += 1) squares += (y[p] - mean) ** 2;
    return { y, mean, std: Math.sqrt(squares / count + EPS) };
  }

  const clip = (value) => (value < 0 ? 0 : value > 1 ? 1 : value);
  // np.rint rounds halves to even (and so does Python's round); Math.round rounds them up.
  function rint(value) {
    const rounded = Math.round(value);
    return rounded - value === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
  }

  // photo, render: RGBA bytes of one size; writes the picture at strength `level` into `out` (RGBA).
  function dial(photo, render, level, keepColors, out) {
    const count = photo.length / 4;
    const stylized = keepColors ? luminanceStats(render) : null;
    const content = keepColors ? luminanceStats(photo) : null;
    const s = f(level);
    const rest = f(1 - level);
    const rgb = [0, 0, 0];
    for (let p = 0, i = 0; p < count; p += 1, i += 4) {
      const pr = f(photo[i] / 255), pg = f(photo[i + 1] / 255), pb = f(photo[i + 2] / 255);
      if (keepColors) {
        const y = (stylized.y[p] - stylized.mean) / stylized.std * content.std + content.mean;
        const ci = 0.596 * pr - 0.274 * pg - 0.322 * pb;
        const cq = 0.211 * pr - 0.523 * pg + 0.312 * pb;
        rgb[0] = f(clip(y + 0.956 * ci + 0.621 * cq));
        rgb[1] = f(clip(y - 0.272 * ci - 0.647 * cq));
        rgb[2] = f(clip(y - 1.106 * ci + 1.703 * cq));
      } else {
        rgb[0] = f(render[i] / 255);
        rgb[1] = f(render[i + 1] / 255);
        rgb[2] = f(render[i + 2] / 255);
      }
      const base = [pr, pg, pb];
      for (let c = 0; c < 3; c += 1) {
        const value = level < 1 ? f(f(s * rgb[c]) + f(rest * base[c])) : rgb[c];
        out[i + c] = rint(f(clip(value) * 255));
      }
      out[i + 3] = 255;
    }
  }

  // The picture for a strength and colour setting, as a new ImageData.
  function dialImage(photo, render, level, keepColors) {
    const out = new ImageData(photo.width, photo.height);
    dial(photo.data, render.data, level, keepColors, out.data);
    return out;
  }

  window.AtelierPixels = { decode, dial, dialImage, rint, clip };
})();
