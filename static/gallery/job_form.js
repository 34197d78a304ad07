// The new-picture form: style rows (one for the common case, up to four for a blend), the method kept in step with
// the chosen styles, and a live 256 px preview while the user moves the strength slider. The preview is painted on the
// visitor's device (device.js) when onnxruntime-web runs here, for a fast preset and for any style (a preset's
// painting, a stored style or the file being uploaded, blends too); a moved strength or colour setting re-dials the
// last render at once. The server paints it when the device cannot (onnxruntime-web or a network did not load), when
// the device took longer than DEVICE_BUDGET_SECONDS for a preview, and for the optimisation method; the caption says
// which. Changes are debounced, photos are shrunk in the browser first, and a page never has more than one preview
// rendering at a time.
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
  const GRAPHS = files.graphStyle ? { // the any-style network's four graphs, when this site has them
    style: files.graphStyle, encoder: files.graphEncoder, modulate: files.graphModulate, decoder: files.graphDecoder,
  } : null;
  // A device that takes longer than this for a 256 px preview leaves the next ones to the server (settings'
  // DEVICE_PREVIEW_BUDGET_MS).
  const DEVICE_BUDGET_SECONDS = Number(form.dataset.deviceBudgetMs) / 1000;
  // The largest picture whose PNG is sure to pass the upload checks' byte limit (gallery.networks.device_max_pixels).
  const DEVICE_MAX_PIXELS = Number(form.dataset.deviceMaxPixels);
  let deviceFailed = false; // onnxruntime-web, a network or an image did not load: the server paints from then on
  const slowSeconds = {}; // method -> the seconds of a device preview over the budget
  let lastRender = null; // the last preview painted on this device: {key, photo, render, backend, seconds}
  const fileIds = new WeakMap(); // File -> a number, to name renders of it
  let filesSeen = 0;
  const decodedFiles = new WeakMap(); // File -> Promise<ImageData>, at full size
  const decodedUrls = new Map(); // painting URL -> Promise<ImageData>
  const photos = new WeakMap(); // File -> side -> Promise<ImageData>, as the engine sizes the photo

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

  function fileId(file) {
    if (!fileIds.has(file)) {
      filesSeen += 1;
      fileIds.set(file, filesSeen);
    }
    return fileIds.get(file);
  }

  function decoded(source) {
    const cache = typeof source === "string" ? decodedUrls : decodedFiles;
    if (!cache.has(source)) {
      const blob = typeof source === "string"
        ? fetch(source, { credentials: "same-origin" }).then((response) => {
          if (!response.ok) throw new Error(`${source} answered ${response.status}`);
          return response.blob();
        })
        : Promise.resolve(source);
      const image = blob.then(window.AtelierPixels.decode);
      image.catch(() => cache.delete(source)); // tried again next time
      cache.set(source, image);
    }
    return cache.get(source);
  }

  // The photo at `side` px as the engine paints it (stylecore.imageio.prepare_photo), resized here as Pillow does.
  function photoAt(file, side) {
    if (!photos.has(file)) photos.set(file, new Map());
    const sizes = photos.get(file);
    if (!sizes.has(side)) sizes.set(side, decoded(file).then((image) => window.AtelierResample.fitWithin(image, side)));
    return sizes.get(side);
  }

  // A row's painting for the any-style network on this device: the file being uploaded, or the URL of the chosen
  // preset's painting, stored style or remixed style; null when this site does not hand it out.
  function paintingOf(row) {
    const file = uploadOf(row);
    if (file) return file;
    const radio = ["preset", "my_style", "shared_style"].flatMap((kind) => inRow(row, kind)).find((input) => input.checked);
    return radio ? radio.closest("[data-painting]")?.dataset.painting || null : null;
  }

  // What this device would paint for the form's choices, or null when only the server can: the fast preset's network,
  // or any style with every chosen row's painting, weight and the brush. `key` names the render, so that a change of
  // strength or colours re-dials it instead of painting again.
  function devicePlan() {
    const method = field("method").value;
    if (method === "fast") {
      const url = presetNetwork();
      return url ? { method, network: { kind: "fast", url }, key: `fast ${url}` } : null;
    }
    const chosen = rows().filter(hasStyle);
    if (method !== "arbitrary" || !GRAPHS || !chosen.length) return null;
    const sources = chosen.map(paintingOf);
    if (sources.some((source) => !source)) return null;
    const weights = chosen.length > 1 ? chosen.map((row) => blendWeight(Number(inRow(row, "weight")[0].value))) : null;
    const styleScale = Number(field("style_scale").value);
    const named = sources.map((source) => (typeof source === "string" ? source : `file ${fileId(source)}`));
    return { method, sources, weights, styleScale, key: ["arbitrary", ...named, weights, styleScale].join(" ") };
  }

  async function deviceNetwork(plan) {
    if (plan.network) return plan.network;
    const paintings = await Promise.all(plan.sources.map(decoded));
    return { kind: "arbitrary", graphs: GRAPHS, paintings, weights: plan.weights, styleScale: plan.styleScale };
  }

  // The full-strength render of the photo at `side` px: {photo, render, backend, seconds}.
  async function renderOnDevice(plan, content, side) {
    const photo = await photoAt(content, side);
    const network = await deviceNetwork(plan);
    return { photo, ...(await window.AtelierDevice.render(ORT, network, photo)) };
  }

  const previewKey = (plan, content) => `${plan.key} photo ${fileId(content)}`;

  // where: "device" or "server"; render: what the device painted (its render's key), "" for the server.
  function showPreview(url, strength, where, render = "") {
    const image = part("preview-image");
    image.src = url;
    image.dataset.strength = strength;
    image.dataset.paintedOn = where;
    image.dataset.render = render;
    if (shownUrl) URL.revokeObjectURL(shownUrl);
    shownUrl = url;
  }

  function toPng(image) {
    const canvas = document.createElement("canvas");
    canvas.width = image.width;
    canvas.height = image.height;
    canvas.getContext("2d").putImageData(image, 0, 0);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  }

  const dialed = ({ photo, render }, strength) => window.AtelierPixels.dialImage(photo, render, Number(strength), field("preserve_color").checked);

  // "Paint it on my device", offered with the time the preview's speed predicts for the whole picture, up to the
  // largest picture the device can upload.
  async function offerPaintOnDevice(content, { photo, seconds }) {
    const side = await window.AtelierSizes.pictureSide(content);
    const scale = side / Math.max(photo.width, photo.height);
    const pixels = photo.width * photo.height * scale * scale;
    const megapixels = (value) => `${(value / 1e6).toFixed(1)} megapixels`;
    if (pixels > DEVICE_MAX_PIXELS) {
      part("device-status").textContent = `Your device paints pictures of up to ${megapixels(DEVICE_MAX_PIXELS)}, `
        + `as much as it can upload; this one has ${megapixels(pixels)}, so "Paint it" paints it on our server.`;
      return;
    }
    const time = window.AtelierSizes.describeSeconds(seconds * scale * scale);
    part("paint-on-device").hidden = false;
    part("device-status").textContent = `Your device would paint the ${side} px picture in ${time}.`;
  }

  async function paintPreviewOnDevice(plan, content, strength) {
    const key = previewKey(plan, content);
    if (!lastRender || lastRender.key !== key) lastRender = { key, ...(await renderOnDevice(plan, content, SIDE)) };
    const { backend, seconds } = lastRender;
    showPreview(URL.createObjectURL(await toPng(dialed(lastRender, strength))), strength, "device", key);
    const slow = seconds > DEVICE_BUDGET_SECONDS;
    if (slow) slowSeconds[plan.method] = seconds;
    showStatus(`Painted on your device (${backend}, ${seconds.toFixed(2)} s): ${SIDE} px, strength ${strength}.`
      + (slow ? " That is slow, so our server paints the next previews." : ""));
    if (!slow) await offerPaintOnDevice(content, lastRender);
  }

  // "Paint it on my device": the whole picture at the chosen size, stored in the gallery like a worker's result.
  async function paintAndSave() {
    const plan = devicePlan();
    const content = upload("content");
    if (!plan || !content) return;
    const button = part("paint-on-device");
    const side = await window.AtelierSizes.pictureSide(content);
    button.disabled = true;
    part("device-status").textContent = `Painting ${side} px on your device…`;
    try {
      const image = dialed(await renderOnDevice(plan, content, side), field("strength").value);
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
    part("device-status").textContent = "";
    if (!active) return;
    busy = true;
    const strength = field("strength").value;
    showStatus("Painting the preview…");
    try {
      const plan = deviceFailed || !window.AtelierDevice ? null : devicePlan();
      const rendered = plan && lastRender && lastRender.key === previewKey(plan, content);
      if (plan && (rendered || !slowSeconds[plan.method])) {
        try {
          await paintPreviewOnDevice(plan, content, strength);
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
      const notes = method === "fast" ? [", with the Any style method"] : [];
      if (plan && slowSeconds[plan.method]) notes.push(`, as your device took ${slowSeconds[plan.method].toFixed(2)} s for a preview`);
      showStatus(`Painted on our server${notes.join("")}: ${SIDE} px, strength ${strength}.`);
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
    // A render this device already has is only re-dialed, in milliseconds: that answers the slider as it moves.
    const content = upload("content");
    const plan = content && !deviceFailed ? devicePlan() : null;
    const redial = plan && lastRender && lastRender.key === previewKey(plan, content);
    timer = window.setTimeout(renderPreview, redial ? 0 : DEBOUNCE_MS);
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
