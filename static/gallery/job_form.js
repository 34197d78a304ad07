// The new-picture form: style rows (one for the common case, up to four for a blend), the method kept in step with
// the chosen styles, and a live 256 px preview while the user moves the strength slider. A preset the user chose the
// Fast method for is painted on the visitor's device (device.js) when onnxruntime-web runs here; everything else, and
// such a preset when it does not, is painted on the server. Changes are debounced, photos are shrunk in the browser
// first, and a page never has more than one preview rendering at a time.
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
  const shrunk = new Map(); // File -> side -> Promise<canvas>, so each upload is shrunk once per size
  let timer = null;
  let busy = false; // one preview in flight per page: a change made meanwhile is rendered when it returns
  let stale = false;
  let shownUrl = null;

  const files = form.dataset; // onnxruntime-web's files, at their static URLs
  const ORT = {
    wasm: { module: files.ortWasm, loader: files.ortWasmLoader, binary: files.ortWasmBinary },
    webgpu: { module: files.ortWebgpu, loader: files.ortWebgpuLoader, binary: files.ortWebgpuBinary },
  };
  let deviceFailed = false; // onnxruntime-web or the network did not load: the server paints from then on

  function shrunkCanvas(file, side) {
    if (!shrunk.has(file)) shrunk.set(file, new Map());
    const sizes = shrunk.get(file);
    if (!sizes.has(side)) {
      sizes.set(side, createImageBitmap(file).then((bitmap) => {
        const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
        const canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(bitmap.width * scale));
        canvas.height = Math.max(1, Math.round(bitmap.height * scale));
        const context = canvas.getContext("2d");
        context.imageSmoothingQuality = "high";
        context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        return canvas;
      }));
    }
    return sizes.get(side);
  }

  const shrink = (file, side) => shrunkCanvas(file, side)
    .then((canvas) => new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9)));

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

  // Keep the method one that can paint the chosen styles: fast takes one preset, a blend or an own style needs
  // Any style. Never the other way round: Any style paints a preset better (it won a blind comparison), so fast is
  // only ever the user's choice.
  function fitMethod() {
    const chosen = rows().filter(hasStyle);
    const method = field("method");
    if (method.value === "fast" && (chosen.length > 1 || chosen.some(ownStyle))) method.value = "arbitrary";
  }

  function onStyleChosen(row, kind) {
    ["preset", "my_style", "shared_style"].filter((other) => other !== kind)
      .forEach((other) => inRow(row, other).forEach((radio) => { radio.checked = false; }));
    const input = inRow(row, "upload")[0];
    if (kind !== "upload" && input && input.value) {
      input.value = "";
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
    fitMethod();
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

  // A slider's blend weight, as the server takes it (gallery.forms.blend_weight): against a style at full weight, a
  // row's share is half its slider.
  const blendWeight = (slider) => slider / (2 - slider);

  function showShares() {
    const weights = rows().map((row) => blendWeight(Number(inRow(row, "weight")[0].value)));
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    rows().forEach((row, index) => {
      row.querySelector("[data-role=share]").textContent = total ? `${Math.round((100 * weights[index]) / total)} %` : "";
    });
  }

  function showStatus(text) {
    part("preview-status").textContent = text;
  }

  // The network of the one preset a fast job would paint, or null.
  function presetNetwork() {
    const chosen = rows().filter(hasStyle);
    if (field("method").value !== "fast" || chosen.length !== 1) return null;
    const radio = inRow(chosen[0], "preset").find((input) => input.checked);
    return radio ? radio.closest("[data-network]")?.dataset.network || null : null;
  }

  function showPreview(url, strength, where) {
    const image = part("preview-image");
    image.src = url;
    image.dataset.strength = strength;
    image.dataset.paintedOn = where;
    if (shownUrl) URL.revokeObjectURL(shownUrl);
    shownUrl = url;
  }

  // The photo at most `side` px, painted by the preset's network on this device: {image: ImageData, backend, seconds}.
  async function paintPhoto(content, network, side) {
    const options = { strength: Number(field("strength").value), preserveColor: field("preserve_color").checked };
    const canvas = await shrunkCanvas(content, side);
    const photo = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    const started = performance.now();
    const painted = await window.AtelierDevice.paint(ORT, network, photo, options);
    return { ...painted, seconds: ((performance.now() - started) / 1000).toFixed(2) };
  }

  function toPng(image) {
    const canvas = document.createElement("canvas");
    canvas.width = image.width;
    canvas.height = image.height;
    canvas.getContext("2d").putImageData(image, 0, 0);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  }

  async function paintOnDevice(content, network, strength) {
    const { image, backend, seconds } = await paintPhoto(content, network, SIDE);
    showPreview(URL.createObjectURL(await toPng(image)), strength, "device");
    showStatus(`Painted on your device (${backend}, ${seconds} s): ${SIDE} px, strength ${strength}.`);
  }

  // "Paint it on my device": the whole picture at the chosen size, stored in the gallery like a worker's result.
  async function paintAndSave() {
    const network = presetNetwork();
    const content = upload("content");
    if (!network || !content) return;
    const button = part("paint-on-device");
    const side = await window.AtelierSizes.pictureSide(content);
    button.disabled = true;
    part("device-status").textContent = `Painting ${side} px on your device…`;
    try {
      const { image } = await paintPhoto(content, network, side);
      const data = new FormData(form);
      data.set("result", await toPng(image), "painting.png");
      const response = await fetch(form.dataset.deviceUrl + window.location.search, { method: "POST", body: data, credentials: "same-origin" });
      const body = await response.json().catch(() => ({}));
      if (response.ok) {
        window.location.assign(body.url);
        return;
      }
      part("device-status").textContent = body.error || `The picture could not be saved (${response.status}).`;
    } catch (error) {
      part("device-status").textContent = "Your device could not paint this picture; \"Paint it\" paints it on our server.";
    } finally {
      button.disabled = false;
    }
  }

  async function renderPreview() {
    if (busy) {
      stale = true;
      return;
    }
    const content = upload("content");
    const method = field("method").value;
    const active = ["arbitrary", "fast"].includes(method) && content && rows().some(hasStyle);
    part("preview").hidden = !active;
    part("paint-on-device").hidden = true; // until this device has painted the preview
    if (!active) return;
    busy = true;
    const strength = field("strength").value;
    showStatus("Painting the preview…");
    try {
      const network = presetNetwork();
      if (network && !deviceFailed && window.AtelierDevice) {
        try {
          await paintOnDevice(content, network, strength);
          part("paint-on-device").hidden = false;
          return;
        } catch (error) {
          deviceFailed = true;
          console.warn("Painting on this device failed; the server paints the preview instead.", error);
        }
      }
      const data = new FormData(form);
      // The server previews with the "Any style" method; a preset's own network runs on the visitor's device only.
      data.set("method", "arbitrary");
      // The photo goes shrunk, so the picture's size goes as a number: brush strokes are sized relative to it.
      data.set("max_side", String(await window.AtelierSizes.pictureSide(content)));
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
      showPreview(URL.createObjectURL(await response.blob()), strength, "server");
      const how = method === "fast" ? ", with the Any style method" : "";
      showStatus(`Painted on our server${how}: ${SIDE} px, strength ${strength}.`);
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
    fitMethod();
    schedulePreview();
  });
  addButton.addEventListener("click", () => {
    if (rows().length >= MAX_ROWS) return;
    rowsBox.append(template.content.cloneNode(true));
    renumber();
    fitMethod();
  });
  field("strength").addEventListener("input", () => {
    part("strength-value").textContent = Number(field("strength").value).toFixed(2);
  });
  part("paint-on-device").addEventListener("click", paintAndSave);
  form.addEventListener("input", schedulePreview);
  form.addEventListener("change", schedulePreview);
  addButton.hidden = rows().length >= MAX_ROWS;
  fitMethod();
  showShares();
  part("strength-value").textContent = Number(field("strength").value).toFixed(2);
})();
