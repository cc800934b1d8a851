/* The operator's console: run sheet with one-click cues, next/prev, countdown / flash sale / lottery /
 * pin forms, teleprompter remote, live numbers and alerts. All text from outside goes to textContent. */
(function () {
  "use strict";
  const L = window.LiveCompanion;
  const $ = (id) => document.getElementById(id);
  const el = L.el;
  const streamId = document.body.dataset.streamId;
  let state = null;
  let sheetOf = null;  // the run_sheet object the list was built from
  const sheetRows = new Map();  // segment index -> li
  const cueRows = new Map();  // cue key -> {row, button, status}

  const client = new L.LiveClient({
    streamId,
    onState: (s) => { state = s; render(); },
    onStatus: (status) => { const c = $("conn"); c.className = "conn " + status; L.setText(c, status); },
  });

  // ---- actions -----------------------------------------------------------------------------------
  let toastTimer = null;
  function toast(text, ok) {
    const t = $("toast");
    L.setText(t, text);
    t.className = "toast" + (ok ? " ok" : "");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.className = "toast hidden" + (ok ? " ok" : ""); }, ok ? 1800 : 5000);
  }

  async function act(method, tail, body, okText) {
    try {
      const result = await client.streamApi(method, tail, body);
      if (okText) toast(okText, true);
      return result;
    } catch (e) {
      toast(e.message);
      throw e;
    }
  }

  function liveIndex() { return state && state.segment ? state.segment.index : null; }

  $("next").addEventListener("click", () => act("POST", "/segments/next", { from_index: liveIndex() }).catch(() => {}));
  $("prev").addEventListener("click", () => act("POST", "/segments/previous", { from_index: liveIndex() }).catch(() => {}));
  $("end").addEventListener("click", () => {
    if (confirm("結束直播? End the stream?")) act("POST", "/end").catch(() => {});
  });
  $("goto").addEventListener("change", (event) => {
    const index = Number(event.target.value);
    event.target.value = "";
    if (Number.isInteger(index)) act("POST", "/segments/goto", { index }).catch(() => {});
  });

  async function fireCue(key) {
    const [segment, index] = [key.slice(0, key.lastIndexOf("/")), key.slice(key.lastIndexOf("/") + 1)];
    const path = "/cues/" + encodeURIComponent(segment) + "/" + index + "/fire";
    try {
      await client.streamApi("POST", path);
      toast("已執行 fired: " + (state.cues[key] || {}).summary, true);
    } catch (e) {
      if (e.status === 409 && confirm("已執行過,再執行一次? Already fired: fire again?")) {
        await act("POST", path + "?force=true").catch(() => {});
      } else if (e.status !== 409) {
        toast(e.message);
      }
    }
  }

  function formBody(form, numbers) {
    const body = {};
    for (const [k, v] of new FormData(form).entries()) {
      if (v === "") continue;
      body[k] = numbers.includes(k) ? Number(v) : v;
    }
    return body;
  }

  function onSubmit(id, tail, numbers, okText, after) {
    $(id).addEventListener("submit", (event) => {
      event.preventDefault();
      act("POST", tail, formBody(event.target, numbers), okText).then(after || (() => {})).catch(() => {});
    });
  }
  onSubmit("f-countdown", "/countdowns", ["seconds"], "倒計時開始 countdown started");
  onSubmit("f-pin", "/pins", [], "已置頂 pinned", () => $("f-pin").reset());
  onSubmit("f-sale", "/flash-sales", ["stock", "duration_seconds", "first_n", "per_user_limit", "price"], "秒殺開始 sale started");
  onSubmit("f-lottery", "/lotteries", ["winners", "duration_seconds"], "抽獎開始 lottery started");
  $("unpin").addEventListener("click", () => act("DELETE", "/pins", undefined, "已取消置頂 unpinned").catch(() => {}));

  const REMOTE = [["toggle", "▶ 播放/暫停"], ["slower", "－ 慢"], ["faster", "＋ 快"], ["back", "◀◀ 回捲"],
    ["forward", "▶▶ 前進"], ["top", "▲ 回頂"], ["smaller", "A−"], ["bigger", "A+"], ["mirror_h", "⇋ 鏡像"]];
  for (const [action, label] of REMOTE) {
    $("remote-buttons").append(el("button", { type: "button", onclick: () => act("POST", "/prompter", { action }).catch(() => {}) }, label));
  }

  const token = encodeURIComponent(client.token);
  for (const page of ["teleprompter", "remote", "overlay"]) {
    $("link-" + page).href = "/streams/" + encodeURIComponent(streamId) + "/" + page + "?token=" + token;
  }

  // ---- rendering ---------------------------------------------------------------------------------
  function target(min, max) {
    if (max == null) return "—";
    return min != null && min !== max ? L.clock(min) + "–" + L.clock(max) : L.clock(max);
  }

  function buildSheet() {
    sheetOf = state.run_sheet;
    sheetRows.clear();
    cueRows.clear();
    const list = $("runsheet");
    const items = [];
    const goto = $("goto");
    goto.replaceChildren(el("option", { value: "" }, "跳到 Go to…"));
    for (const seg of state.run_sheet) {
      const cues = el("ul", { class: "cues" });
      for (const cue of seg.cues) {
        const status = el("span", { class: "cue-status" });
        const button = el("button", { class: "fire", type: "button", onclick: () => fireCue(cue.key) }, "執行 Fire");
        const row = el("li", { class: "cue " + cue.action, dataset: { key: cue.key } }, [
          el("span", { class: "at" }, "+" + L.clock(cue.at_seconds)),
          el("span", { class: "summary" }, cue.summary),
          status, button,
        ]);
        cueRows.set(cue.key, { row, button, status });
        cues.append(row);
      }
      const go = el("button", { class: "go", type: "button", title: "go live with this segment",
        onclick: () => act("POST", "/segments/goto", { index: seg.index }).catch(() => {}) }, "▶");
      const li = el("li", { class: "seg", dataset: { index: seg.index } }, [
        el("div", { class: "seg-head" }, [
          el("span", { class: "kind " + seg.kind }, seg.kind),
          el("span", { class: "seg-title" }, seg.title),
          el("span", { class: "target dim" }, target(seg.target_min_seconds, seg.target_max_seconds)),
          go,
        ]),
        seg.product ? el("div", { class: "product dim" }, productName(seg.product)) : null,
        seg.cues.length ? cues : null,
      ]);
      sheetRows.set(seg.index, li);
      items.push(li);
      goto.append(el("option", { value: seg.index }, (seg.index + 1) + ". " + seg.title));
    }
    list.replaceChildren(...items);
    const skus = $("f-sale").elements.sku;
    skus.replaceChildren(...Object.values(state.products || {}).map((p) => el("option", { value: p.sku }, p.sku + " " + p.name)));
    skus.onchange = () => {
      const p = (state.products || {})[skus.value];
      if (p && p.live_price != null) $("f-sale").elements.price.value = p.live_price;
    };
    skus.onchange();
  }

  function productName(sku) {
    const p = (state.products || {})[sku];
    return p ? p.name + " (" + sku + ")" : sku;
  }

  function render() {
    if (!state) return;
    if (state.run_sheet !== sheetOf) buildSheet();
    const st = state.stream || {};
    const status = $("status");
    status.className = "status " + st.status;
    L.setText(status, { ready: "未開播 ready", live: "直播中 LIVE", ended: "已結束 ended" }[st.status] || st.status);
    L.setText($("host"), st.host ? "主播 " + st.host : "");
    const seg = state.segment;
    const live = seg ? seg.index : -1;
    for (const [index, li] of sheetRows) {
      li.classList.toggle("live", index === live);
      li.classList.toggle("done", live >= 0 ? index < live : st.status === "ended");
    }
    L.setText($("seg-kind"), seg ? seg.kind : "");
    L.setText($("seg-title"), seg ? (seg.index + 1) + ". " + seg.title : st.status === "ended" ? "已結束 Ended" : "尚未開播 Not started");
    L.setText($("seg-target"), seg ? target(seg.target_min_seconds, seg.target_max_seconds) : "—");
    L.setText($("seg-next"), seg && seg.next ? seg.next.title : seg ? "（最後一段，下一步結束 last segment）" : "—");
    const count = st.segment_count || 0;
    L.setText($("next"), st.status === "ready" ? "開播 Start ▶" : st.status === "ended" ? "已結束" :
      live === count - 1 ? "結束直播 End ■" : "下一段 Next ▶");
    $("next").disabled = st.status === "ended";
    $("prev").disabled = st.status === "ready" || (st.status === "live" && live === 0);
    $("end").disabled = st.status !== "live";
    const note = state.note;
    $("note").classList.toggle("hidden", !note);
    L.setText($("note"), note ? "主播提示 Note: " + note.text : "");
    renderNumbers();
    renderRunning();
    renderQuestions();
    tick();
  }

  function renderNumbers() {
    const m = state.metrics || {};
    L.setText($("m-viewers"), String(m.viewers || 0));
    L.setText($("m-cpm"), String(m.comments_per_min || 0));
    L.setText($("m-orders"), String(m.orders || 0));
    L.setText($("m-gmv"), "¥" + L.money(m.gmv || 0));
    const intent = Object.entries(m.intent || {}).sort((a, b) => b[1] - a[1]);
    $("intent").replaceChildren(...(intent.length ? intent.map(([word, n]) => el("li", {}, word + " ×" + n))
      : [el("li", { class: "dim" }, "—")]));
  }

  function renderQuestions() {
    const qs = state.questions || [];
    $("questions").replaceChildren(...(qs.length ? qs.slice(0, 12).map((q) =>
      el("li", {}, [el("span", { class: "count" }, "×" + (q.count || 1)), el("span", {}, q.text)]))
      : [el("li", { class: "dim" }, "暫無 none yet")]));
  }

  let runningExpiry = Infinity;  // re-render the list when the first of its clocks runs out

  function renderRunning() {
    const now = client.now();
    const items = [];
    runningExpiry = Infinity;
    const expires = (t) => { if (t && t > now) runningExpiry = Math.min(runningExpiry, t); };
    for (const c of L.runningCountdowns(state, now)) {
      expires(c.ends_at);
      items.push(el("li", { dataset: { ends: c.ends_at } }, [
        el("span", { class: "name" }, "倒計時 " + (c.label || "")),
        el("strong", { class: "remaining" }, L.clock((c.ends_at - now) / 1000)),
        el("button", { type: "button", onclick: () => act("DELETE", "/countdowns/" + encodeURIComponent(c.id)).catch(() => {}) }, "✕"),
      ]));
    }
    for (const [id, s] of Object.entries(state.flash_sales || {})) {
      const status = L.saleStatus(s, now);
      if (status === "ended" && now - (s.ends_at || 0) > 60000) continue;
      const left = s.remaining != null ? s.remaining : s.stock;
      if (status === "running") expires(s.ends_at);
      // The name may be cut short (…); price, stock left and time left never are (console.css).
      // Only a running sale's clock ticks (a sold-out one has no time left to show).
      items.push(el("li", { class: "sale " + status, dataset: { ends: status === "running" ? s.ends_at || "" : "" } }, [
        el("span", { class: "name", title: s.name || productName(s.sku) }, "⚡ " + (s.name || productName(s.sku))),
        el("strong", { class: "price" }, "¥" + L.money(s.price)),
        el("strong", { class: "left" }, status === "sold_out" ? "售罄 sold out" : "剩 " + left + "/" + s.stock),
        status === "running" ? el("strong", { class: "remaining" }, s.ends_at ? L.clock((s.ends_at - now) / 1000) : "")
          : status === "ended" ? el("strong", { class: "ended" }, "已結束 ended") : null,
        status === "running" ? el("button", { type: "button", title: "stop this sale now",
          onclick: () => { if (confirm("停止秒殺? Stop the sale?")) act("POST", "/flash-sales/" + encodeURIComponent(id) + "/stop", undefined, "已停止 stopped").catch(() => {}); } }, "停 Stop") : null,
      ]));
    }
    for (const [id, lot] of Object.entries(state.lotteries || {})) {
      const winners = L.winnerNames(lot);
      const running = L.lotteryOpen(lot);
      if (!running && now - (lot.ends_at || 0) > 600000) continue;
      if (running) expires(lot.ends_at);
      items.push(el("li", { class: "lottery", dataset: { ends: running ? lot.ends_at || "" : "" } }, [
        el("span", { class: "name" }, "抽獎「" + lot.keyword + "」" + (lot.prize || "")),
        el("strong", {}, running ? (L.lotteryEntrants(lot) || 0) + " 人參與"
          : winners.length ? "中獎: " + winners.join("、") : "無人中獎 no entrants"),
        running ? el("strong", { class: "remaining" }, lot.ends_at ? L.clock((lot.ends_at - now) / 1000) : "") : null,
        running ? el("button", { type: "button", onclick: () => act("POST", "/lotteries/" + encodeURIComponent(id) + "/draw", undefined, "已開獎 drawn").catch(() => {}) }, "開獎 Draw") : null,
      ]));
    }
    $("running").replaceChildren(...(items.length ? items : [el("li", { class: "dim" }, "—")]));
  }

  // The service's alerts (state.alerts, open ones first, newest first) with a one-click
  // acknowledgement, after the page's own hints. Rebuilt only when something changed, so a click
  // never lands on a button that was just replaced.
  let alertsShown = "";
  function renderAlerts(hints) {
    const open = Object.values(state.alerts || {}).filter((a) => a.acked_ms == null).sort((a, b) => b.ts - a.ts);
    const sig = JSON.stringify([hints, open.map((a) => a.id)]);
    if (sig === alertsShown) return;
    alertsShown = sig;
    const items = open.map((a) => {
      const ack = el("button", { class: "ack", type: "button", title: "知道了 acknowledge" }, "✓ 知道了");
      ack.addEventListener("click", async () => {
        ack.disabled = true;
        try { await client.streamApi("POST", "/alerts/ack", { id: a.id }); } catch (e) { ack.disabled = false; }
      });
      return el("li", { class: "server " + (a.level || "warn"), "data-alert": a.id },
        [el("span", { class: "time" }, L.timeOfDay(a.ts)), el("span", { class: "text" }, a.text), ack]);
    });
    for (const [level, text] of hints) items.push(el("li", { class: level }, text));
    $("alerts").replaceChildren(...(items.length ? items : [el("li", { class: "dim" }, "—")]));
  }

  // Clocks, due cues and the page's own hints: once a second, no server loop needed.
  function tick() {
    if (!state) return;
    const now = client.now();
    if (now >= runningExpiry) renderRunning();
    const st = state.stream || {};
    L.setText($("stream-clock"), st.started_ms ? L.clock(((st.ended_ms || now) - st.started_ms) / 1000) : "0:00");
    const seg = state.segment;
    const alerts = [];
    const clockEl = $("seg-clock");
    if (seg) {
      const elapsed = (now - seg.started_ms) / 1000;
      const p = L.pace(elapsed, seg.target_min_seconds, seg.target_max_seconds);
      L.setText(clockEl, L.clock(elapsed));
      clockEl.className = "big pace-" + p;
      // Overtime itself is a server alert (one truth for every screen); nearing it is a hint here.
      if (p === "amber") alerts.push(["info", "接近目標時長 near the segment's target"]);
    } else {
      L.setText(clockEl, "0:00");
      clockEl.className = "big";
    }
    for (const [key, parts] of cueRows) {
      const cue = (state.cues || {})[key] || {};
      let text = "", cls = "";
      if (cue.fired_ms != null) { text = "✓ " + L.timeOfDay(cue.fired_ms); cls = "fired"; }
      else if (cue.due_ms != null) {
        const left = (cue.due_ms - now) / 1000;
        if (left <= 0) { text = "到點 due"; cls = "due"; }
        else { text = "in " + L.clock(left); cls = "soon"; }
      }
      parts.row.className = "cue " + (cue.action || "") + " " + cls;
      L.setText(parts.status, text);
    }
    const cue = L.nextCue(state);
    L.setText($("next-cue"), cue ? "下一個提示 Next cue: " + cue.summary +
      (cue.due_ms != null ? (cue.due_ms <= now ? " — 現在 NOW" : " — " + L.clock((cue.due_ms - now) / 1000)) : "") : "");
    renderAlerts(alerts);
    for (const li of $("running").querySelectorAll("[data-ends]")) {
      const ends = Number(li.dataset.ends);
      const r = li.querySelector(".remaining");
      if (ends && r) L.setText(r, L.clock(Math.max(0, (ends - now) / 1000)));
    }
  }

  setInterval(tick, 1000);
  client.start();
  window.consoleClient = client;
})();
