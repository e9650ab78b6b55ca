// SPDX-License-Identifier: Apache-2.0
// The viewer's progressive enhancement: the live stream (server-sent events) and confirmations.
// The pages work without it; nothing here is inline, so the Content-Security-Policy stays strict.
"use strict";

function startStream() {
  const live = document.getElementById("live");
  const items = document.getElementById("items");
  if (!live || !items || !window.EventSource) return;
  const state = document.getElementById("live-state");
  const showNew = document.getElementById("show-new");
  const count = document.getElementById("new-count");
  const waiting = [];

  function insert(html) {
    const holder = document.createElement("template");
    holder.innerHTML = html.trim();
    const item = holder.content.firstElementChild;
    if (!item || document.querySelector('[data-id="' + CSS.escape(item.dataset.id) + '"]')) return;
    items.insertBefore(item, items.firstChild);
    const empty = document.getElementById("empty");
    if (empty) empty.remove();
  }

  function flush() {
    while (waiting.length) insert(waiting.shift());
    showNew.hidden = true;
  }

  // A reader who scrolled down keeps their place: new items wait behind a button instead of
  // pushing the list down under them.
  const source = new EventSource(live.dataset.stream);
  source.addEventListener("open", () => { state.textContent = "Live"; });
  source.addEventListener("error", () => { state.textContent = "Reconnecting…"; });
  source.addEventListener("signed-out", () => {
    source.close();
    state.textContent = "Signed out: reload the page to sign in again.";
  });
  source.addEventListener("memory", (event) => {
    if (window.scrollY < 40 && !waiting.length) {
      insert(event.data);
    } else {
      waiting.push(event.data);
      count.textContent = String(waiting.length);
      showNew.hidden = false;
    }
  });
  showNew.addEventListener("click", () => { flush(); window.scrollTo({ top: 0 }); });
}

function confirmForms() {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  startStream();
  confirmForms();
});
