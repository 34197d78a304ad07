// Polls the job's status endpoint and updates the progress bar, queue position and result in place.
(function () {
  "use strict";
  const root = document.getElementById("job");
  if (!root) return;
  const part = (role) => root.querySelector(`[data-role="${role}"]`);
  const POLL_MS = 1000;

  function render(state) {
    const badge = part("status");
    badge.textContent = state.status_label;
    badge.className = `badge badge-${state.status}`;
    part("queue").textContent = state.queue_position ? `Position ${state.queue_position} in the queue` : "";
    part("bar").value = state.progress;
    part("percent").textContent = `${state.progress}%`;
    const error = part("error");
    error.textContent = state.error;
    error.hidden = !state.error;
    const cancel = part("cancel");
    if (cancel && state.status !== "queued") cancel.remove();
    if (state.result) {
      part("result-image").src = state.result.image_url;
      part("download").href = state.result.download_url;
      part("artwork-link").href = state.result.artwork_url;
      part("result").hidden = false;
    }
  }

  async function poll() {
    try {
      const response = await fetch(root.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        const state = await response.json();
        render(state);
        if (state.finished) return;
      }
    } catch (error) {
      // A dropped connection is retried on the next tick.
    }
    window.setTimeout(poll, POLL_MS);
  }

  poll();
})();
