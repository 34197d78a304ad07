// The new-picture form: keeps the method in step with the chosen style, and shows a live 256 px preview of the
// "Any style" method while the user moves the strength slider. Changes are debounced, photos are shrunk in the
// browser first, and a page never has more than one preview rendering on the server.
(function () {
  "use strict";
  const form = document.getElementById("job-form");
  if (!form) return;
  const field = (name) => form.elements.namedItem(name);
  const radios = (name) => Array.from(form.querySelectorAll(`input[name="${name}"]`));
  const part = (role) => form.querySelector(`[data-role="${role}"]`);
  const SIDE = Number(form.dataset.previewSide);
  const STYLE_SIDE = 2 * SIDE;
  const DEBOUNCE_MS = 250;
  const shrunk = new Map(); // File -> Promise<Blob>, so each upload is shrunk once
  let timer = null;
  let busy = false; // one preview in flight per page: a change made meanwhile is rendered when it returns
  let stale = false;
  let shownUrl = null;

  function shrink(file, side) {
    if (!shrunk.has(file)) {
      shrunk.set(file, createImageBitmap(file).then((bitmap) => {
        const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
        const canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(bitmap.width * scale));
        canvas.height = Math.max(1, Math.round(bitmap.height * scale));
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9));
      }));
    }
    return shrunk.get(file);
  }

  const checked = (name) => radios(name).some((radio) => radio.checked);
  const upload = (name) => (field(name) && field(name).files.length ? field(name).files[0] : null);
  const hasStyle = () => checked("preset") || checked("my_style") || Boolean(upload("style"));
  const ownStyle = () => checked("my_style") || Boolean(upload("style"));

  function setMethod(value) {
    field("method").value = value;
  }

  function onStyleChosen(kind) {
    if (kind !== "preset") radios("preset").forEach((radio) => { radio.checked = false; });
    if (kind !== "my_style") radios("my_style").forEach((radio) => { radio.checked = false; });
    if (kind !== "style" && field("style")) field("style").value = "";
    const method = field("method").value;
    if (kind === "preset" && method === "arbitrary" && !field("blend_with").value) setMethod("fast");
    if (kind !== "preset" && method === "fast") setMethod("arbitrary");
  }

  function showStatus(text) {
    part("preview-status").textContent = text;
  }

  async function renderPreview() {
    if (busy) {
      stale = true;
      return;
    }
    const content = upload("content");
    const active = field("method").value === "arbitrary" && content && hasStyle();
    part("preview").hidden = !active;
    if (!active) return;
    busy = true;
    const strength = field("strength").value;
    showStatus("Painting the preview…");
    try {
      const data = new FormData(form);
      data.set("content", await shrink(content, SIDE), "preview.jpg");
      if (upload("style")) data.set("style", await shrink(upload("style"), STYLE_SIDE), "style.jpg");
      else data.delete("style");
      const response = await fetch(form.dataset.previewUrl, { method: "POST", body: data, credentials: "same-origin" });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        showStatus(body.error || `The preview failed (${response.status}).`);
        return;
      }
      const url = URL.createObjectURL(await response.blob());
      const image = part("preview-image");
      image.src = url;
      image.dataset.strength = strength;
      if (shownUrl) URL.revokeObjectURL(shownUrl);
      shownUrl = url;
      showStatus(`Live preview at ${SIDE} px, strength ${strength}.`);
    } catch (error) {
      showStatus("The preview could not be loaded; it will retry on the next change.");
    } finally {
      busy = false;
      if (stale) {
        stale = false;
        schedulePreview();
      }
    }
  }

  function schedulePreview() {
    window.clearTimeout(timer);
    timer = window.setTimeout(renderPreview, DEBOUNCE_MS);
  }

  function showValue(input, role) {
    part(role).textContent = Number(input.value).toFixed(2);
  }

  radios("preset").forEach((radio) => radio.addEventListener("change", () => onStyleChosen("preset")));
  radios("my_style").forEach((radio) => radio.addEventListener("change", () => onStyleChosen("my_style")));
  if (field("style")) field("style").addEventListener("change", () => upload("style") && onStyleChosen("style"));
  field("blend_with").addEventListener("change", () => {
    if (field("blend_with").value && field("method").value === "fast") setMethod("arbitrary");
  });
  field("strength").addEventListener("input", () => showValue(field("strength"), "strength-value"));
  field("blend_weight").addEventListener("input", () => showValue(field("blend_weight"), "blend-value"));
  form.addEventListener("input", schedulePreview);
  form.addEventListener("change", schedulePreview);
  if (ownStyle() && field("method").value === "fast") setMethod("arbitrary");
  showValue(field("strength"), "strength-value");
  showValue(field("blend_weight"), "blend-value");
})();
