// The new-picture form: style rows (one for the common case, up to four for a blend), the method kept in step with
// the chosen styles, and a live 256 px preview of the "Any style" method while the user moves the strength slider.
// Changes are debounced, photos are shrunk in the browser first, and a page never has more than one preview
// rendering on the server.
(function () {
  "use strict";
  const form = document.getElementById("job-form");
  if (!form) return;
  const field = (name) => form.elements.namedItem(name);
  const part = (role) => form.querySelector(`[data-role="${role}"]`);
  const rowsBox = part("style-rows");
  const template = part("style-row-template");
  const addButton = part("add-style");
  const MAX_ROWS = Number(rowsBox.dataset.max);
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

  const rows = () => Array.from(rowsBox.querySelectorAll("[data-role=style-row]"));
  const inRow = (row, kind) => Array.from(row.querySelectorAll(`[name$="-${kind}"]`));
  const uploadOf = (row) => {
    const input = inRow(row, "upload")[0];
    return input && input.files.length ? input.files[0] : null;
  };
  const picked = (row, kind) => inRow(row, kind).some((radio) => radio.checked);
  const hasStyle = (row) => ["preset", "my_style", "shared_style"].some((kind) => picked(row, kind)) || Boolean(uploadOf(row));
  const ownStyle = (row) => picked(row, "my_style") || picked(row, "shared_style") || Boolean(uploadOf(row));
  const upload = (name) => (field(name) && field(name).files.length ? field(name).files[0] : null);

  function setMethod(value) {
    field("method").value = value;
  }

  // Keep the method one that can paint the chosen styles: fast takes one preset, a blend or an own style needs
  // Any style. Never the other way round, unless the user just picked a single preset.
  function fitMethod(pickedPreset) {
    const chosen = rows().filter(hasStyle);
    const method = field("method").value;
    if (method === "fast" && (chosen.length > 1 || chosen.some(ownStyle))) setMethod("arbitrary");
    if (pickedPreset && method === "arbitrary" && rows().length === 1) setMethod("fast");
  }

  function onStyleChosen(row, kind) {
    ["preset", "my_style", "shared_style"].filter((other) => other !== kind)
      .forEach((other) => inRow(row, other).forEach((radio) => { radio.checked = false; }));
    const input = inRow(row, "upload")[0];
    if (kind !== "upload" && input && input.value) {
      input.value = "";
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
    fitMethod(kind === "preset");
  }

  function renumber() {
    const all = rows();
    all.forEach((row, index) => {
      row.querySelectorAll("[name], [id], label[for]").forEach((element) => {
        ["name", "id", "for"].forEach((attribute) => {
          const value = element.getAttribute(attribute);
          if (value) element.setAttribute(attribute, value.replace(/styles-(\d+|__prefix__)-/, `styles-${index}-`));
        });
      });
    });
    field("styles-TOTAL_FORMS").value = all.length;
    field("styles-INITIAL_FORMS").value = Math.min(Number(field("styles-INITIAL_FORMS").value), all.length);
    addButton.hidden = all.length >= MAX_ROWS;
    showShares();
  }

  function showShares() {
    const weights = rows().map((row) => Number(inRow(row, "weight")[0].value));
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    rows().forEach((row, index) => {
      row.querySelector("[data-role=share]").textContent = total ? `${Math.round((100 * weights[index]) / total)} %` : "";
    });
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
    const active = field("method").value === "arbitrary" && content && rows().some(hasStyle);
    part("preview").hidden = !active;
    if (!active) return;
    busy = true;
    const strength = field("strength").value;
    showStatus("Painting the preview…");
    try {
      const data = new FormData(form);
      data.set("content", await shrink(content, SIDE), "preview.jpg");
      for (const input of form.querySelectorAll('input[type=file][name^="styles-"]')) {
        if (input.files.length) data.set(input.name, await shrink(input.files[0], STYLE_SIDE), "style.jpg");
        else data.delete(input.name);
      }
      // The page's ?remix= goes along: a remixed artwork's style is allowed in the preview as in the job.
      const response = await fetch(form.dataset.previewUrl + window.location.search, { method: "POST", body: data, credentials: "same-origin" });
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

  rowsBox.addEventListener("change", (event) => {
    const row = event.target.closest("[data-role=style-row]");
    const kind = (event.target.name || "").replace(/^styles-\d+-/, "");
    if (!row || kind === "weight") return;
    if (kind === "upload" && !event.target.files.length) return;
    onStyleChosen(row, kind);
  });
  rowsBox.addEventListener("input", (event) => {
    if ((event.target.name || "").endsWith("-weight")) showShares();
  });
  rowsBox.addEventListener("click", (event) => {
    if (!event.target.closest("[data-role=remove-style]") || rows().length < 2) return;
    event.target.closest("[data-role=style-row]").remove();
    renumber();
    fitMethod(false);
    schedulePreview();
  });
  addButton.addEventListener("click", () => {
    if (rows().length >= MAX_ROWS) return;
    rowsBox.append(template.content.cloneNode(true));
    renumber();
    fitMethod(false);
  });
  field("strength").addEventListener("input", () => {
    part("strength-value").textContent = Number(field("strength").value).toFixed(2);
  });
  form.addEventListener("input", schedulePreview);
  form.addEventListener("change", schedulePreview);
  addButton.hidden = rows().length >= MAX_ROWS;
  fitMethod(false);
  showShares();
  part("strength-value").textContent = Number(field("strength").value).toFixed(2);
})();
