// File inputs inside a [data-role=drop-zone]: an image dropped on the zone fills its input, and the chosen image
// shows as a thumbnail before the form is sent. Delegated from the document, so rows added later work too.
(function () {
  "use strict";
  const zoneOf = (target) => target instanceof Element && target.closest("[data-role=drop-zone]");
  const inputOf = (zone) => zone.querySelector("input[type=file]");

  function showThumbnail(input) {
    const zone = zoneOf(input);
    const thumb = zone && zone.querySelector("[data-role=upload-thumb]");
    if (!thumb) return;
    if (thumb.src) URL.revokeObjectURL(thumb.src);
    const file = input.files.length ? input.files[0] : null;
    thumb.hidden = !file;
    if (file) thumb.src = URL.createObjectURL(file);
    else thumb.removeAttribute("src");
  }

  document.addEventListener("dragover", (event) => {
    const zone = zoneOf(event.target);
    if (!zone || !event.dataTransfer.types.includes("Files")) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    zone.classList.add("drop-active");
  });
  document.addEventListener("dragleave", (event) => {
    const zone = zoneOf(event.target);
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("drop-active");
  });
  document.addEventListener("drop", (event) => {
    const zone = zoneOf(event.target);
    if (!zone || !event.dataTransfer.files.length) return;
    event.preventDefault();
    zone.classList.remove("drop-active");
    const input = inputOf(zone);
    const files = new DataTransfer();
    files.items.add(event.dataTransfer.files[0]);
    input.files = files.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
  document.addEventListener("change", (event) => {
    if (event.target instanceof HTMLInputElement && event.target.type === "file") showThumbnail(event.target);
  });
})();
