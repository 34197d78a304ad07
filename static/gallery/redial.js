// Re-dial: the finished picture with another strength and colour setting, worked out here from the photo (at the
// render's size) and the kept full-strength render, with the engine's own arithmetic (stylecore.arrays
// apply_settings and preserve_color, stylecore.imageio from_array). The server recomputes the same pixels from the
// same files when the version is saved; it never takes these.
(function () {
  const form = document.querySelector("[data-role=redial-form]");
  const canvas = document.querySelector("[data-role=redial-canvas]");
  if (!form || !canvas) return;
  const result = document.querySelector("[data-role=result-image]");
  const badge = document.querySelector("[data-role=redial-badge]");
  const status = form.querySelector("[data-role=redial-status]");
  const shown = form.querySelector("[data-role=redial-strength-value]");
  const reset = form.querySelector("[data-role=redial-reset]");
  const strength = form.elements.strength;
  const keep = form.elements.preserve_color;
  const initial = { strength: strength.value, keep: keep.checked };
  const context = canvas.getContext("2d");
  const f = Math.fround; // numpy works in float32: round where it does, so edge values land on the same level
  const EPS = 1e-5; // stylecore.arrays._EPS
  let inputs = null;
  let pending = false;

  async function pixels(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    // No colour management and no premultiplied alpha: the engine reads the files' bytes as they are.
    const bitmap = await createImageBitmap(await response.blob(), { colorSpaceConversion: "none", premultiplyAlpha: "none" });
    if (bitmap.width !== canvas.width || bitmap.height !== canvas.height) {
      throw new Error(`${url} is ${bitmap.width} x ${bitmap.height}, not ${canvas.width} x ${canvas.height}`);
    }
    const scratch = document.createElement("canvas");
    scratch.width = bitmap.width;
    scratch.height = bitmap.height;
    const drawing = scratch.getContext("2d", { willReadFrequently: true });
    drawing.drawImage(bitmap, 0, 0);
    return drawing.getImageData(0, 0, bitmap.width, bitmap.height).data;
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
  // np.rint rounds halves to even; Math.round rounds them up.
  function rint(value) {
    const rounded = Math.round(value);
    return rounded - value === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
  }

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

  function draw() {
    pending = false;
    if (!inputs) return;
    const image = context.createImageData(canvas.width, canvas.height);
    dial(inputs.photo, inputs.render, Number(strength.value), keep.checked, image.data);
    context.putImageData(image, 0, 0);
    canvas.dataset.strength = strength.value;
    canvas.dataset.preserveColor = String(keep.checked);
  }

  function changed() {
    shown.textContent = Number(strength.value).toFixed(2);
    const edited = strength.value !== initial.strength || keep.checked !== initial.keep;
    canvas.hidden = !edited;
    result.hidden = edited;
    badge.hidden = !edited;
    reset.disabled = !edited;
    if (!pending) {
      pending = true;
      requestAnimationFrame(draw);
    }
  }

  strength.addEventListener("input", changed);
  keep.addEventListener("change", changed);
  reset.addEventListener("click", () => {
    strength.value = initial.strength;
    keep.checked = initial.keep;
    changed();
  });
  form.addEventListener("submit", () => {
    status.textContent = "Saving…";
  });

  status.textContent = "Loading the photo and the full-strength painting…";
  Promise.all([pixels(form.dataset.photoUrl), pixels(form.dataset.renderUrl)])
    .then(([photo, render]) => {
      inputs = { photo, render };
      status.textContent = "";
      draw();
      canvas.dataset.ready = "true";
    })
    .catch((error) => {
      status.textContent = `The preview cannot load (${error.message}); saving still works.`;
    });
})();
