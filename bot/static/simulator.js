// Parent simulator: poll the phone's messages every few seconds so the school's reply
// appears once the worker has sent it. Text goes in with textContent (never as HTML).
(function () {
  "use strict";
  var list = document.getElementById("bubbles");
  if (!list || !list.dataset.source) { return; }
  var shown = "";

  function signature(messages) {
    return messages.map(function (m) { return m.id + ":" + m.text.length; }).join(",");
  }

  function bubble(message) {
    var item = document.createElement("li");
    item.className = "bubble " + (message.mine ? "mine" : "theirs");
    item.dir = "auto";
    item.dataset.id = message.id;
    item.textContent = message.text;
    var time = document.createElement("time");
    time.textContent = message.channel + " · " + message.time;
    item.appendChild(time);
    return item;
  }

  function render(messages) {
    var key = signature(messages);
    if (key === shown || messages.length === 0) { return; }
    shown = key;
    list.replaceChildren.apply(list, messages.map(bubble));
    list.scrollTop = list.scrollHeight;
  }

  function poll() {
    fetch(list.dataset.source, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { render(data.messages); } })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .finally(function () { window.setTimeout(poll, 2500); });
  }

  list.scrollTop = list.scrollHeight;
  shown = signature(Array.prototype.map.call(list.querySelectorAll(".bubble"), function (el) {
    return { id: el.dataset.id, text: el.firstChild ? el.firstChild.textContent : "" };
  }));
  window.setTimeout(poll, 2500);
})();
