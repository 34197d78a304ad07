// Re-dial: the finished picture with another strength and colour setting, worked out here from the photo (at the
// render's size) and the kept full-strength render, with the engine's own arithmetic (pixels.js). The server
// recomputes the same pixels from the same files when the version is saved; it never takes these.
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
  let inputs = null;
  let pending = false;

  async function pixels(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    const image = await window.AtelierPixels.decode(await response.blob());
    if (image.width !== canvas.width || image.height !== canvas.height) {
      throw new Error(`${url} is ${image.width} x ${image.height}, not ${canvas.width} x ${canvas.height}`);
    }
    return image.data;
  }

  function draw() {
    pending = false;
    if (!inputs) return;
    const image = context.createImageData(canvas.width, canvas.height);
    window.AtelierPixels.dial(inputs.photo, inputs.render, Number(strength.value), keep.checked, image.data);
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
