// Keeps the conversation list and an open thread current without a reload: every few seconds
// ask whether anything changed (a tiny JSON answer), and only then fetch the new list or messages.
(function (script) {
  const thread = document.querySelector("ol.thread");
  const match = location.pathname.match(/^\/conversations\/(\d+)$/);
  if (location.pathname !== "/" && !(thread && match)) return;
  const stateUrl = match ? `/live/state?conversation=${match[1]}` : "/live/state";
  const every = Number(document.body.dataset.livePoll || 4000);
  let version = (script && script.dataset.version) || null;  // as the page was rendered

  async function refresh() {
    if (thread && match) {
      const response = await fetch(`/live/conversations/${match[1]}/messages`, { credentials: "same-origin" });
      if (response.ok) thread.innerHTML = await response.text();
    } else {
      const response = await fetch(location.href, { credentials: "same-origin" });
      if (!response.ok) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      const current = document.querySelector("main");
      const incoming = fresh.querySelector("main");
      if (current && incoming) current.innerHTML = incoming.innerHTML;
    }
  }

  async function check() {
    try {
      const response = await fetch(stateUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.ok) {
        const state = await response.json();
        // Only the list swaps the whole page (a thread swaps its messages, never the reply box).
        const typing = !match && document.activeElement && document.activeElement.closest("main form");
        if (version !== null && state.version !== version && !typing) await refresh();
        if (!typing) version = state.version;  // someone filling in a filter: refresh once they leave it
      }
    } catch (error) {
      // Offline for a moment: try again at the next tick.
    }
    setTimeout(check, every);
  }
  check();
})(document.currentScript);
