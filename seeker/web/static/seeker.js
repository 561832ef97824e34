// Seeker's page script: live updates (server-sent events), control buttons, parameter editor.
// Plain JavaScript, no build step. The token is typed by the user, kept in this tab only
// (sessionStorage) and sent as "Authorization: Bearer" on requests that change something.
"use strict";

(() => {
  const TOKEN_KEY = "seeker.token";
  const token = () => sessionStorage.getItem(TOKEN_KEY) || "";

  function toast(text, ok) {
    const box = document.getElementById("toast");
    if (!box) return;
    const item = document.createElement("div");
    item.className = ok ? "ok" : "err";
    item.textContent = text;
    box.appendChild(item);
    setTimeout(() => item.remove(), 8000);
  }

  async function post(url, body) {
    const headers = { "Content-Type": "application/json" };
    if (token()) headers["Authorization"] = "Bearer " + token();
    return fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
  }

  // -- token --------------------------------------------------------------------------------
  function setupToken() {
    const input = document.getElementById("token-input");
    const form = document.getElementById("token-form");
    if (!input || !form) return;
    input.value = token();
    input.addEventListener("change", () => sessionStorage.setItem(TOKEN_KEY, input.value.trim()));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    });
  }

  // -- control buttons (delegated: they are re-rendered by live updates) ---------------------
  function setupControls() {
    document.addEventListener("click", async (e) => {
      const btn = e.target.closest("button[data-post]");
      if (!btn) return;
      e.preventDefault();
      if (btn.dataset.confirm && !window.confirm(btn.dataset.confirm)) return;
      let args = {};
      try { args = JSON.parse(btn.dataset.args || "{}"); } catch (_) { /* keep {} */ }
      btn.disabled = true;
      try {
        const res = await post(btn.dataset.post, args);
        let data = {};
        try { data = await res.json(); } catch (_) { /* not JSON */ }
        if (res.ok && data.ok) {
          toast(`${btn.textContent.trim()}: done ${JSON.stringify(data.result || {})}`, true);
        } else {
          const why = data.error || data.detail || res.statusText;
          toast(`${btn.textContent.trim()}: ${res.status} ${typeof why === "string" ? why : JSON.stringify(why)}`, false);
        }
      } catch (err) {
        toast(`${btn.textContent.trim()}: ${err}`, false);
      } finally {
        btn.disabled = false;
      }
    });
  }

  // -- live updates ---------------------------------------------------------------------------
  function setupLive() {
    const target = document.getElementById("overview");
    const dot = document.getElementById("live-dot");
    if (!window.EventSource) return;
    const source = new EventSource("/events");
    let busy = false;
    let again = false;
    async function refresh(version) {
      if (!target) return;
      if (busy) { again = true; return; }
      busy = true;
      try {
        const res = await fetch(target.dataset.fragment, { cache: "no-store" });
        if (res.ok) {
          const html = await res.text();
          // keep the page's open <details> and focus: swap only the fragment's content
          target.innerHTML = html;
          target.dataset.version = String(version);
          target.dataset.updated = new Date().toISOString();
        }
      } finally {
        busy = false;
        if (again) { again = false; refresh(version); }
      }
    }
    source.addEventListener("update", (e) => {
      let data = {};
      try { data = JSON.parse(e.data); } catch (_) { /* ignore */ }
      if (dot) { dot.classList.add("live"); dot.title = "live: " + (data.clock || ""); }
      document.body.dataset.liveVersion = String(data.version || 0);
      refresh(data.version);
    });
    source.addEventListener("error", () => { if (dot) dot.classList.remove("live"); });
    window.addEventListener("beforeunload", () => source.close());
  }

  // -- parameter editor -----------------------------------------------------------------------
  function changedEdits(form) {
    const edits = {};
    for (const input of form.querySelectorAll("input[name]")) {
      const changed = input.value.trim() !== (input.dataset.original || "").trim();
      input.classList.toggle("changed", changed);
      if (changed) edits[input.name] = input.value;
    }
    return edits;
  }

  function setupEditor() {
    const form = document.getElementById("param-form");
    const out = document.getElementById("edit-result");
    if (!form || !out) return;
    let lastEdits = {};
    form.addEventListener("input", () => changedEdits(form));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      lastEdits = changedEdits(form);
      const res = await post("/parameters/preview", { edits: lastEdits });
      out.innerHTML = await res.text();
    });
    out.addEventListener("click", async (e) => {
      const btn = e.target.closest("#write-btn");
      if (!btn) return;
      e.preventDefault();
      btn.disabled = true;
      const res = await post("/parameters/write", { edits: lastEdits, digest: btn.dataset.digest });
      if (res.status === 401) {
        let why = "token required";
        try { why = (await res.json()).detail; } catch (_) { /* keep */ }
        toast("Write: 401 " + why, false);
        btn.disabled = false;
        return;
      }
      out.innerHTML = await res.text();
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    window.seekerLoadedAt = window.seekerLoadedAt || Date.now();
    setupToken();
    setupControls();
    setupLive();
    setupEditor();
  });
})();
