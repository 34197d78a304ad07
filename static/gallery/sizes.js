// The new-picture form's sizes: once a photo is chosen, each size says the picture it paints from that photo (capped
// by the photo, the largest side and the megapixel limit) and its expected time for the chosen method, from the
// bench's figures in #size-table. The same arithmetic as gallery/printsizes.py, which shows the times of square
// pictures before a photo is chosen and caps the size again when the form is sent.
(function () {
  "use strict";
  const form = document.getElementById("job-form");
  const box = form && form.querySelector("[data-role=sizes]");
  if (!box) return;
  const table = JSON.parse(document.getElementById("size-table").textContent);
  const options = Array.from(box.querySelectorAll("[data-role=size-option]"));
  const shownByServer = new Map(options.map((option) => [option, Array.from(option.querySelectorAll(".size-time"), (span) => span.textContent)]));
  const dimensions = new WeakMap(); // File -> Promise<{width, height}>, read once per file

  function pictureSize(width, height, side) {
    const longest = Math.max(width, height);
    if (longest <= side) return [width, height];
    const scale = side / longest;
    return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
  }

  // The longest side a job paints from a width x height photo; asked is a number of px, or null for its own size.
  function pictureSide(width, height, asked) {
    const longest = Math.max(width, height);
    let side = Math.min(longest, table.max_side, asked || longest);
    if (width * height * (side / longest) ** 2 > table.max_pixels) {
      side = Math.floor(longest * Math.sqrt(table.max_pixels / (width * height)));
    }
    while (pictureSize(width, height, side).reduce((a, b) => a * b) > table.max_pixels) side -= 1;
    return side;
  }

  function describeSeconds(seconds) {
    if (seconds < 1) return "under 1 s";
    if (seconds < 90) return `about ${Math.round(seconds)} s`;
    return `about ${Math.round(seconds / 30) / 2} min`;
  }

  // "about 4 s" from the bench's [pixels, seconds] points, interpolated; "" beyond the largest measured picture.
  function describe(method, pixels) {
    const points = table.seconds[method] || [];
    if (!points.length || pixels > points[points.length - 1][0]) return "";
    if (pixels < points[0][0]) {
      const text = describeSeconds(points[0][1]);
      return points[0][1] >= 1 ? `up to ${text}` : text;
    }
    for (let i = 1; i < points.length; i += 1) {
      const [low, lowSeconds] = points[i - 1];
      const [high, highSeconds] = points[i];
      if (pixels <= high) return describeSeconds(lowSeconds + ((highSeconds - lowSeconds) * (pixels - low)) / (high - low));
    }
    return describeSeconds(points[0][1]);
  }

  function photoDimensions(file) {
    if (!dimensions.has(file)) {
      dimensions.set(file, createImageBitmap(file).then((bitmap) => ({ width: bitmap.width, height: bitmap.height })));
    }
    return dimensions.get(file);
  }

  const askedOf = (value) => (value === table.own_size ? null : Number(value));

  function showForServer() {
    options.forEach((option) => {
      option.querySelector("[data-role=size-note]").textContent = "";
      option.querySelectorAll(".size-time").forEach((span, index) => { span.textContent = shownByServer.get(option)[index]; });
    });
  }

  function showForPhoto({ width, height }) {
    options.forEach((option) => {
      const asked = askedOf(option.querySelector("input").value);
      const side = pictureSide(width, height, asked);
      const [w, h] = pictureSize(width, height, side);
      const limited = side < Math.max(width, height); // by the largest side or the megapixel limit, not the photo
      const limits = `${table.max_side} px a side and ${table.max_pixels / 1e6} megapixels at most`;
      let note = "";
      if (asked === null) note = limited ? `${w} × ${h} px (${limits})` : `${w} × ${h} px`;
      else if (side < asked) note = limited ? `${w} × ${h} px (${limits})` : `larger than your photo: painted at ${w} × ${h} px`;
      option.querySelector("[data-role=size-note]").textContent = note;
      option.querySelectorAll(".size-time").forEach((span) => {
        const method = span.dataset.method;
        const refused = method === "optimize" && side > table.optimize_max_side;
        span.classList.toggle("size-unavailable", refused);
        span.textContent = refused ? `not for optimisation, which paints ${table.optimize_max_side} px at most` : describe(method, w * h);
      });
    });
  }

  const photoInput = () => form.elements.namedItem("content");

  async function update() {
    box.dataset.method = form.elements.namedItem("method").value;
    const input = photoInput();
    if (!input.files.length) {
      showForServer();
      return;
    }
    try {
      showForPhoto(await photoDimensions(input.files[0]));
    } catch (error) {
      showForServer(); // not an image this browser decodes: the server says so when the form is sent
    }
  }

  form.addEventListener("change", (event) => {
    if (event.target === photoInput() || event.target.name === "method") update();
  });
  update();

  // For job_form.js: the longest side the chosen size paints this photo at, and how long times read.
  window.AtelierSizes = {
    describeSeconds,
    async pictureSide(file) {
      const { width, height } = await photoDimensions(file);
      return pictureSide(width, height, askedOf(form.elements.namedItem("max_side").value));
    },
  };
})();
