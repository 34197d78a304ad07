// Artwork page: the before/after slider and the like button (no reload).
(function () {
  const compare = document.querySelector("[data-role=compare]");
  if (compare) {
    // Set here, not in a style attribute, which the Content-Security-Policy refuses.
    compare.style.aspectRatio = `${compare.dataset.width} / ${compare.dataset.height}`;
    const range = compare.querySelector("[data-role=compare-range]");
    const split = () => compare.style.setProperty("--split", range.value + "%");
    range.addEventListener("input", split);
    split();
  }

  const share = document.querySelector("[data-role=share-url]");
  if (share) share.addEventListener("click", () => share.select());

  const like = document.querySelector("[data-role=like]");
  if (!like) return;
  const csrf = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
  like.addEventListener("click", async () => {
    const wanted = like.getAttribute("aria-pressed") !== "true";
    like.disabled = true;
    try {
      const response = await fetch(like.dataset.url, {
        method: "POST",
        headers: { "X-CSRFToken": csrf ? csrf.split("=")[1] : "", "Content-Type": "application/json" },
        body: JSON.stringify({ liked: wanted }),
      });
      if (!response.ok) throw new Error(response.status === 429 ? "Too many likes; wait a minute." : "Could not save the like.");
      const body = await response.json();
      like.setAttribute("aria-pressed", String(body.liked));
      like.classList.toggle("liked", body.liked);
      like.querySelector("[data-role=like-count]").textContent = body.count;
    } catch (error) {
      like.title = error.message;
    } finally {
      like.disabled = false;
    }
  });
})();
