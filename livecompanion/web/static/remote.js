/* Teleprompter remote: each button posts a command; every teleprompter of the stream obeys it. */
(function () {
  "use strict";
  const L = window.LiveCompanion;
  const $ = (id) => document.getElementById(id);
  let state = null;
  const client = new L.LiveClient({
    streamId: document.body.dataset.streamId,
    onState: (s) => { state = s; tick(); },
    onStatus: (status) => { const c = $("conn"); c.className = "conn " + status; L.setText(c, L.connText(status)); },
  });

  let toastTimer = null;
  function toast(text, ok) {
    const t = $("toast");
    L.setText(t, text);
    t.className = "toast" + (ok ? " ok" : "");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.className = "toast hidden"; }, 2500);
  }

  for (const button of document.querySelectorAll("[data-action]")) {
    button.addEventListener("click", () => {
      const body = { action: button.dataset.action };
      if (button.dataset.value) body.value = Number(button.dataset.value);
      client.streamApi("POST", "/prompter", body).catch((e) => toast(e.message));
      if (navigator.vibrate) navigator.vibrate(15);
    });
  }
  const actions = new L.Actions(client, toast);
  $("next").addEventListener("click", () => {
    const from = state && state.segment ? state.segment.index : null;
    if ((state && state.stream || {}).status === "ended") { toast(L.errorText(409, { detail: "ended" })); return; }
    if (!confirm("切到下一段？")) return;
    actions.run("next", { method: "POST", tail: "/segments/next", body: { from_index: from }, label: "下一段", button: $("next") }).catch(() => {});
  });
  actions.resume();

  function tick() {
    if (!state) return;
    const seg = state.segment;
    const st = state.stream || {};
    L.setText($("seg"), seg ? (seg.index + 1) + ". " + seg.title : st.status === "ended" ? "直播已結束" : st.title || "");
    $("next").disabled = st.status === "ended";
    const clock = $("seg-clock");
    if (seg && seg.started_ms) {
      const elapsed = (client.now() - seg.started_ms) / 1000;
      L.setText(clock, L.clock(elapsed));
      clock.className = "clock pace-" + L.pace(elapsed, seg.target_min_seconds, seg.target_max_seconds);
    } else {
      L.setText(clock, "0:00");
    }
  }
  setInterval(tick, 1000);
  client.start();
})();
