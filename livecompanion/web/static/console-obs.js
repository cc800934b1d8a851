/* The console's OBS section (issue 16), kept apart from console.js: it listens to the console's own
 * LiveClient (window.consoleClient) and adds
 *   - a panel: link status (connected / disconnected / refused / unavailable) with OBS's words, the scene
 *     OBS has live, the last switch asked for and how it went, a "refresh overlay" button;
 *   - on each run-sheet segment: the scene it switches to and a one-click "switch now".
 * It shows nothing for a stream whose script has no `obs:` section. All outside text goes to textContent. */
(function () {
  "use strict";
  const L = window.LiveCompanion;
  const client = window.consoleClient;
  if (!L || !client) return;
  const el = L.el;
  const STATUS = {
    connected: "已連線 connected", disconnected: "未連線 disconnected",
    refused: "被拒絕 refused", unavailable: "不可用 unavailable",
  };
  let panel = null;
  const parts = {};

  function toast(text, ok) {
    const t = document.getElementById("toast");
    if (!t) return;
    L.setText(t, text);
    t.className = "toast" + (ok ? " ok" : "");
    setTimeout(() => { t.className = "toast hidden" + (ok ? " ok" : ""); }, ok ? 1800 : 5000);
  }

  async function ask(tail, body, okText) {
    try {
      await client.streamApi("POST", "/obs" + tail, body);
      toast(okText, true);
    } catch (e) {
      toast(e.message);
    }
  }

  function buildPanel() {
    parts.status = el("span", { class: "obs-status" });
    parts.detail = el("div", { class: "obs-detail dim" });
    parts.live = el("strong", { class: "obs-live" });
    parts.wanted = el("div", { class: "obs-wanted" });
    parts.refreshed = el("div", { class: "obs-refreshed dim" });
    parts.refresh = el("button", { type: "button", class: "obs-refresh",
      onclick: () => ask("/refresh-overlay", undefined, "已要求刷新疊加層 overlay refresh asked") }, "⟳ 刷新疊加層 Refresh overlay");
    panel = el("div", { class: "panel obs", id: "obs-panel" }, [
      el("h3", {}, [el("span", {}, "OBS "), parts.status]),
      parts.detail,
      el("div", {}, [el("span", { class: "dim" }, "現場畫面 Live scene "), parts.live]),
      parts.wanted, parts.refresh, parts.refreshed,
    ]);
    const side = document.querySelector(".side");
    if (side) side.prepend(panel);
  }

  function outcome(obs) {
    const wanted = obs.wanted, applied = obs.applied;
    if (!wanted) return ["", ""];
    const text = "切換 Switch → " + wanted.scene + " (" + wanted.reason + ")";
    if (applied && applied.id === wanted.id) {
      return applied.ok ? [text + " ✓", "ok"] : [text + " ✗ " + applied.error, "error"];
    }
    return [text + " … " + (obs.link && obs.link.status === "connected" ? "進行中 switching" : "等待 OBS waiting for OBS"), "pending"];
  }

  function renderPanel(obs) {
    const link = obs.link || {};
    parts.status.className = "obs-status " + (link.status || "disconnected");
    L.setText(parts.status, STATUS[link.status] || link.status || "");
    L.setText(parts.detail, link.detail || "");
    L.setText(parts.live, link.live_scene || "—");
    const [text, cls] = outcome(obs);
    L.setText(parts.wanted, text);
    parts.wanted.className = "obs-wanted " + cls;
    const config = obs.config || {};
    parts.refresh.hidden = !config.overlay_source;
    parts.refresh.title = config.overlay_source ? "OBS source: " + config.overlay_source : "";
    const done = obs.refreshed;
    L.setText(parts.refreshed, done ? "疊加層 Overlay " + L.timeOfDay(done.at_ms) + ": " + (done.ok ? "已刷新 refreshed ✓" : "✗ " + done.error) : "");
  }

  // Each run-sheet segment: its scene and "switch now". Rows are rebuilt by console.js at times, so
  // the tag is added to any row that lacks it.
  function renderSheet(obs, state) {
    const scenes = (obs.config || {}).segments || {};
    const live = obs.link && obs.link.live_scene;
    for (const li of document.querySelectorAll("#runsheet > li[data-index]")) {
      const seg = (state.run_sheet || [])[Number(li.dataset.index)];
      if (!seg) continue;
      let tag = li.querySelector(".obs-scene");
      if (!tag) {
        tag = el("div", { class: "obs-scene" }, [
          el("span", { class: "obs-icon", title: "OBS scene" }, "🎬"),
          el("span", { class: "obs-name" }),
          el("button", { type: "button", class: "obs-switch",
            onclick: () => ask("/switch", { segment_id: seg.id }, "已要求切換 switch asked: " + scenes[seg.id]) }, "切換 Switch now"),
        ]);
        const head = li.querySelector(".seg-head");
        if (head) head.after(tag); else li.append(tag);
      }
      const scene = scenes[seg.id];
      L.setText(tag.querySelector(".obs-name"), scene || "（不切換 no scene）");
      tag.classList.toggle("none", !scene);
      tag.classList.toggle("on-air", !!scene && scene === live);
      tag.querySelector(".obs-switch").hidden = !scene;
    }
  }

  function render(state) {
    const obs = state && state.obs;
    if (!obs || !obs.config) {
      if (panel) panel.hidden = true;
      return;
    }
    if (!panel) buildPanel();
    panel.hidden = false;
    renderPanel(obs);
    renderSheet(obs, state);
  }

  const previous = client.onState;
  client.onState = (state, info) => { previous(state, info); render(state); };
  if (client.state) render(client.state);
})();
