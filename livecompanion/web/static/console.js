/* The operator's console: run sheet with one-click cues, next/prev, countdown / flash sale / lottery /
 * pin / note forms, teleprompter remote, live numbers and alerts. The chat feed and the questions are
 * console-chat.js. Every action goes through L.Actions: a double click, a second console or a
 * reload in the middle never starts anything twice (Idempotency-Key), the button shows that the
 * action is under way and what came of it, and errors read Chinese first.
 * All text from outside goes to textContent. */
(function () {
  "use strict";
  const L = window.LiveCompanion;
  const $ = (id) => document.getElementById(id);
  const el = L.el;
  const streamId = document.body.dataset.streamId;
  let state = null;
  let sheetOf = null;  // the run_sheet object the list was built from
  let scrolledTo = null;  // the live segment the run sheet last scrolled to
  const sheetRows = new Map();  // segment index -> li
  const cueRows = new Map();  // cue key -> {row, button, status}
  const listeners = [];  // other parts of the console (console-chat.js) told of every new state

  const client = new L.LiveClient({
    streamId,
    onState: (s) => { state = s; render(); for (const f of listeners) f(s); },
    onStatus: (status) => { const c = $("conn"); c.className = "conn " + status; L.setText(c, L.connText(status)); },
  });

  // ---- actions -----------------------------------------------------------------------------------
  let toastTimer = null;
  function toast(text, ok) {
    const t = $("toast");
    L.setText(t, text);
    t.className = "toast" + (ok ? " ok" : "");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.className = "toast hidden" + (ok ? " ok" : ""); }, ok ? 1800 : 6000);
  }
  const actions = new L.Actions(client, toast);

  /** One operator action: name (one at a time), then what to send; resolves to the answer or null. */
  function act(name, method, tail, body, label, button) {
    return actions.run(name, { method, tail, body, label, button }).catch(() => null);
  }

  function liveIndex() { return state && state.segment ? state.segment.index : null; }
  function ended() { return !!state && (state.stream || {}).status === "ended"; }

  function next() {
    if (ended()) { toast(L.errorText(409, { detail: "ended" })); return; }
    act("next", "POST", "/segments/next", { from_index: liveIndex() }, "下一段", $("next"));
  }
  $("next").addEventListener("click", next);
  $("prev").addEventListener("click", () => act("prev", "POST", "/segments/previous", { from_index: liveIndex() }, "上一段", $("prev")));
  $("end").addEventListener("click", () => {
    if (confirm("結束直播？\n進行中的秒殺會立即停止、倒計時與置頂會清除、抽獎會立即開獎。")) act("end", "POST", "/end", undefined, "直播已結束", $("end"));
  });
  $("reopen").addEventListener("click", () => {
    const ok = confirm("重新開播？\n已結束的直播會回到最後一段、重新計時，並重新打開所有控制。\n只有在誤按結束時才需要這樣做。");
    if (ok) act("reopen", "POST", "/reopen", { confirm: true }, "已重新開播", $("reopen"));
  });
  $("goto").addEventListener("change", (event) => {
    const index = Number(event.target.value);
    event.target.value = "";
    if (event.target.selectedIndex >= 0 && Number.isInteger(index) && String(index) !== "") {
      act("goto", "POST", "/segments/goto", { index, from_index: liveIndex() }, "跳到第 " + (index + 1) + " 段");
    }
  });

  async function fireCue(key, button) {
    const [segment, index] = [key.slice(0, key.lastIndexOf("/")), key.slice(key.lastIndexOf("/") + 1)];
    const path = "/cues/" + encodeURIComponent(segment) + "/" + index + "/fire";
    const summary = ((state.cues || {})[key] || {}).summary || key;
    try {
      await actions.run("cue:" + key, { method: "POST", tail: path, label: "已執行 " + summary, button });
    } catch (e) {
      if (e.status === 409 && e.code !== "ended" && /already fired/.test(e.message) &&
          confirm("這個提示已執行過，再執行一次？\n" + summary)) {
        act("cue!" + key, "POST", path + "?force=true", undefined, "已再次執行 " + summary, button);
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

  const FORMS = {
    "f-countdown": ["countdown", "/countdowns", ["seconds"], "倒計時開始"],
    "f-pin": ["pin", "/pins", [], "已置頂"],
    "f-sale": ["sale", "/flash-sales", ["stock", "duration_seconds", "first_n", "per_user_limit", "price"], "秒殺開始"],
    "f-lottery": ["lottery", "/lotteries", ["winners", "duration_seconds"], "抽獎開始"],
    "f-note": ["note", "/notes", [], "提示已送到提詞器"],
  };
  function submit(id) {
    const form = $(id);
    if (!form.reportValidity()) return Promise.resolve(null);
    const [name, tail, numbers, label] = FORMS[id];
    return act(name, "POST", tail, formBody(form, numbers), label, form.querySelector("button.primary")).then((answer) => {
      if (answer && (id === "f-pin" || id === "f-note")) form.reset();
      if (answer && answer.cue) toast(label + " ✓（已勾掉腳本提示 " + answer.cue + "）", true);
      return answer;
    });
  }
  for (const id of Object.keys(FORMS)) {
    $(id).addEventListener("submit", (event) => { event.preventDefault(); submit(id); });
  }
  $("unpin").addEventListener("click", () => act("unpin", "DELETE", "/pins", undefined, "已取消置頂", $("unpin")));
  $("clear-note").addEventListener("click", () => act("clear-note", "DELETE", "/notes", undefined, "提示已收回", $("clear-note")));

  const REMOTE = [["toggle", "▶ 播放/暫停"], ["slower", "－ 慢"], ["faster", "＋ 快"], ["back", "◀◀ 回捲"],
    ["forward", "▶▶ 前進"], ["top", "▲ 回頂"], ["smaller", "A−"], ["bigger", "A+"], ["mirror_h", "⇋ 鏡像"]];
  for (const [action, label] of REMOTE) {
    $("remote-buttons").append(el("button", { type: "button", onclick: () => client.streamApi("POST", "/prompter", { action }).catch((e) => toast(e.message)) }, label));
  }

  // ---- links: only the roles each screen needs (never this page's operator token) ---------------
  let links = {};
  client.streamApi("GET", "/links").then((urls) => {
    links = urls || {};
    for (const page of ["teleprompter", "remote", "overlay", "dashboard"]) if (links[page]) $("link-" + page).href = links[page];
  }).catch((e) => toast("無法取得分享連結：" + e.message));
  $("link-home").href = "/?token=" + encodeURIComponent(client.token);
  $("copy-obs").addEventListener("click", async () => {
    const url = links.overlay;
    if (!url) { toast("分享連結還沒載入，請稍候"); return; }
    let copied = false;
    try { await navigator.clipboard.writeText(url); copied = true; } catch (e) {
      const area = el("textarea", { readonly: true }, url);  // plain-http LAN pages have no clipboard API
      document.body.append(area);
      area.select();
      try { copied = document.execCommand("copy"); } catch (e2) { copied = false; }
      area.remove();
    }
    if (copied) toast("已複製 OBS 網址（只帶觀看權杖）", true);
    else prompt("複製這個 OBS 瀏覽器來源網址：", url);
  });

  // ---- keyboard: N next, C countdown, P pin (not while typing) ----------------------------------
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    const k = event.key.toLowerCase();
    if (k === "n") next();
    else if (k === "c") submit("f-countdown");
    else if (k === "p") {
      const picked = window.consoleChat && window.consoleChat.selected();
      if (picked) window.consoleChat.pin(picked);
      else $("f-pin").elements.text.focus();
    } else return;
    event.preventDefault();
  });

  // ---- rendering ---------------------------------------------------------------------------------
  function target(min, max) {
    if (max == null) return "—";
    return min != null && min !== max ? L.clock(min) + "–" + L.clock(max) : L.clock(max);
  }

  function buildSheet() {
    sheetOf = state.run_sheet;
    sheetRows.clear();
    cueRows.clear();
    const items = [];
    const goto = $("goto");
    goto.replaceChildren(el("option", { value: "" }, "跳到某一段…"));
    for (const seg of state.run_sheet) {
      const cues = el("ul", { class: "cues" });
      for (const cue of seg.cues) {
        const status = el("span", { class: "cue-status" });
        const button = el("button", { class: "fire", type: "button" }, "執行");
        button.addEventListener("click", () => fireCue(cue.key, button));
        const row = el("li", { class: "cue " + cue.action, dataset: { key: cue.key } }, [
          el("span", { class: "at" }, "+" + L.clock(cue.at_seconds)),
          el("span", { class: "summary", title: cue.summary }, cue.summary),
          status, button,
        ]);
        cueRows.set(cue.key, { row, button, status });
        cues.append(row);
      }
      const go = el("button", { class: "go", type: "button", title: "直接跳到這一段" }, "▶");
      go.addEventListener("click", () => act("goto", "POST", "/segments/goto", { index: seg.index, from_index: liveIndex() }, "跳到第 " + (seg.index + 1) + " 段", go));
      const li = el("li", { class: "seg", dataset: { index: seg.index } }, [
        el("div", { class: "seg-head" }, [
          el("span", { class: "kind " + seg.kind }, seg.kind),
          el("span", { class: "seg-title" }, (seg.index + 1) + ". " + seg.title),
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
    $("runsheet").replaceChildren(...items);
    scrolledTo = null;
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

  /** Keep the live segment in view in the run sheet: a third of the way down its panel. */
  function followLive(live) {
    if (live === scrolledTo) return;
    scrolledTo = live;
    const li = sheetRows.get(live);
    const panel = $("runsheet-panel");
    if (!li || panel.scrollHeight <= panel.clientHeight) return;
    const top = li.getBoundingClientRect().top - panel.getBoundingClientRect().top + panel.scrollTop;
    panel.scrollTo({ top: Math.max(0, top - panel.clientHeight / 4), behavior: "smooth" });
  }

  function render() {
    if (!state) return;
    if (state.run_sheet !== sheetOf) buildSheet();
    const st = state.stream || {};
    const isEnded = st.status === "ended";
    const status = $("status");
    status.className = "status " + st.status;
    L.setText(status, { ready: "未開播", live: "● 直播中 ON AIR", ended: "已結束" }[st.status] || st.status);
    L.setText($("host"), st.host ? "主播 " + st.host : "");
    const seg = state.segment;
    const live = seg ? seg.index : -1;
    for (const [index, li] of sheetRows) {
      li.classList.toggle("live", index === live);
      li.classList.toggle("done", live >= 0 ? index < live : isEnded);
    }
    if (live >= 0) followLive(live);
    L.setText($("seg-kind"), seg ? seg.kind : "");
    L.setText($("seg-title"), seg ? (seg.index + 1) + ". " + seg.title : isEnded ? "已結束" : "尚未開播");
    L.setText($("seg-target"), seg ? target(seg.target_min_seconds, seg.target_max_seconds) : "—");
    L.setText($("seg-next"), seg && seg.next ? seg.next.title : seg ? "（最後一段，按下一段即結束直播）" : "—");
    const count = st.segment_count || 0;
    L.setText($("next"), st.status === "ready" ? "開播 ▶" : isEnded ? "已結束" : live === count - 1 ? "結束直播 ■" : "下一段 ▶");
    $("next").disabled = isEnded;
    $("prev").disabled = st.status === "ready" || isEnded || (st.status === "live" && live === 0);
    $("goto").disabled = isEnded;
    $("end").disabled = st.status !== "live";
    $("end").classList.toggle("hidden", isEnded);
    $("reopen").classList.toggle("hidden", !isEnded);
    $("ended-banner").classList.toggle("hidden", !isEnded);
    document.body.classList.toggle("show-ended", isEnded);
    // After the end the show's controls are off (the service refuses them too: 409 ended).
    for (const form of document.querySelectorAll("#forms form")) {
      for (const control of form.querySelectorAll("button, input, select")) control.disabled = isEnded;
    }
    for (const button of document.querySelectorAll("#runsheet button")) button.disabled = isEnded;
    const note = state.note;
    $("note").classList.toggle("hidden", !note);
    L.setText($("note"), note ? "提詞器上的提示：" + note.text : "");
    renderNumbers();
    renderExplain();
    renderRunning();
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

  // 講解: a button per product; the running one shows for how long and stops on a click.
  function renderExplain() {
    const now = client.now();
    const on = state.explaining || null;
    const live = (state.stream || {}).status === "live";
    const products = Object.values(state.products || {});
    $("explain").replaceChildren(...(products.length ? products.map((p) => {
      const running = on && on.sku === p.sku;
      return el("li", { class: running ? "on" : "", dataset: { sku: p.sku, since: running ? on.started_ms : "" } }, [
        el("span", { class: "name", title: p.name + " (" + p.sku + ")" }, p.name),
        running ? el("strong", { class: "remaining explain-clock" }, L.clock((now - on.started_ms) / 1000)) : null,
        el("button", { type: "button", disabled: !live, dataset: { action: running ? "stop" : "start" },
          onclick: (e) => act("explain:" + p.sku, "POST", "/explain", { sku: p.sku, action: running ? "stop" : "start" },
            running ? "已結束講解" : "講解中 " + p.sku, e.currentTarget).catch(() => {}) },
          running ? "■ 停止講解" : "▶ 講解"),
      ]);
    }) : [el("li", { class: "dim" }, "腳本沒有商品 no products in the script")]));
  }

  let runningExpiry = Infinity;  // re-render the list when the first of its clocks runs out

  function renderRunning() {
    const now = client.now();
    const items = [];
    runningExpiry = Infinity;
    const expires = (t) => { if (t && t > now) runningExpiry = Math.min(runningExpiry, t); };
    for (const c of L.runningCountdowns(state, now)) {
      expires(c.ends_at);
      const cancel = el("button", { type: "button", title: "取消這個倒計時" }, "✕");
      cancel.addEventListener("click", () => act("cancel:" + c.id, "DELETE", "/countdowns/" + encodeURIComponent(c.id), undefined, "倒計時已取消", cancel));
      items.push(el("li", { dataset: { ends: c.ends_at } }, [
        el("span", { class: "name" }, "倒計時 " + (c.label || "")),
        el("strong", { class: "remaining" }, L.clock((c.ends_at - now) / 1000)), cancel,
      ]));
    }
    for (const [id, s] of Object.entries(state.flash_sales || {})) {
      const status = L.saleStatus(s, now);
      if (status === "ended" && now - (s.ends_at || 0) > 60000 && now - (s.stopped_ms || 0) > 60000) continue;
      const left = s.remaining != null ? s.remaining : s.stock;
      if (status === "running") expires(s.ends_at);
      let stop = null;
      if (status === "running") {
        stop = el("button", { type: "button", title: "立即停止這場秒殺" }, "停止");
        stop.addEventListener("click", () => {
          if (confirm("停止秒殺？" + (s.name || s.sku))) act("stop:" + id, "POST", "/flash-sales/" + encodeURIComponent(id) + "/stop", undefined, "秒殺已停止", stop);
        });
      }
      // The name may be cut short (…); price, stock left and time left never are (console.css).
      items.push(el("li", { class: "sale " + status, dataset: { ends: status === "running" ? s.ends_at || "" : "" } }, [
        el("span", { class: "name", title: s.name || productName(s.sku) }, "⚡ " + (s.name || productName(s.sku))),
        el("strong", { class: "price" }, "¥" + L.money(s.price)),
        el("strong", { class: "left" }, status === "sold_out" ? "售罄" : "剩 " + left + "/" + s.stock),
        status === "running" ? el("strong", { class: "remaining" }, s.ends_at ? L.clock((s.ends_at - now) / 1000) : "")
          : status === "ended" ? el("strong", { class: "ended" }, "已結束") : null,
        stop,
      ]));
    }
    for (const [id, lot] of Object.entries(state.lotteries || {})) {
      const winners = L.winnerNames(lot);
      const running = L.lotteryOpen(lot);
      if (!running && now - (lot.ends_at || 0) > 600000) continue;
      if (running) expires(lot.ends_at);
      let draw = null;
      if (running) {
        draw = el("button", { type: "button" }, "開獎");
        draw.addEventListener("click", () => act("draw:" + id, "POST", "/lotteries/" + encodeURIComponent(id) + "/draw", undefined, "已開獎", draw));
      }
      items.push(el("li", { class: "lottery", dataset: { ends: running ? lot.ends_at || "" : "" } }, [
        el("span", { class: "name" }, "抽獎「" + lot.keyword + "」" + (lot.prize || "")),
        el("strong", {}, running ? (L.lotteryEntrants(lot) || 0) + " 人參與"
          : winners.length ? "中獎：" + winners.join("、") : "無人參與"),
        running ? el("strong", { class: "remaining" }, lot.ends_at ? L.clock((lot.ends_at - now) / 1000) : "") : null,
        draw,
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
    const explaining = document.querySelector("#explain li.on");
    if (explaining && state.explaining) {
      L.setText(explaining.querySelector(".explain-clock"), L.clock((now - state.explaining.started_ms) / 1000));
    }
    const st = state.stream || {};
    L.setText($("stream-clock"), st.started_ms ? L.clock(((st.ended_ms || now) - st.started_ms) / 1000) : "0:00");
    const seg = state.segment;
    const alerts = [];
    const clockEl = $("seg-clock");
    const leftEl = $("seg-left");
    if (seg) {
      const elapsed = (now - seg.started_ms) / 1000;
      const p = L.pace(elapsed, seg.target_min_seconds, seg.target_max_seconds);
      L.setText(clockEl, L.clock(elapsed));
      clockEl.className = "big pace-" + p;
      const left = seg.target_max_seconds != null ? seg.target_max_seconds - elapsed : null;
      L.setText(leftEl, left == null ? "" : left >= 0 ? "剩 " + L.clock(left) : "超時 " + L.clock(-left));
      leftEl.className = "left-time pace-" + p;
      // Overtime itself is a server alert (one truth for every screen); nearing it is a hint here.
      if (p === "amber") alerts.push(["info", "本段接近目標時長"]);
    } else {
      L.setText(clockEl, "0:00");
      clockEl.className = "big";
      L.setText(leftEl, "");
    }
    for (const [key, parts] of cueRows) {
      const cue = (state.cues || {})[key] || {};
      let text = "", cls = "";
      if (cue.fired_ms != null) { text = "✓ " + L.timeOfDay(cue.fired_ms); cls = "fired"; }
      else if (cue.due_ms != null) {
        const left = (cue.due_ms - now) / 1000;
        if (left <= 0) { text = "到點"; cls = "due"; }
        else { text = L.clock(left) + " 後"; cls = "soon"; }
      }
      parts.row.className = "cue " + (cue.action || "") + " " + cls;
      L.setText(parts.status, text);
    }
    const cue = L.nextCue(state);
    L.setText($("next-cue"), cue ? "下一個提示：" + cue.summary +
      (cue.due_ms != null ? (cue.due_ms <= now ? " — 現在" : " — " + L.clock((cue.due_ms - now) / 1000) + " 後") : "") : "");
    // Bridges (livecompanion bridge ...): each with the age of its last event (a silent one while
    // live is a server alert, `source_silent`).
    const sourceRows = [];
    for (const src of Object.values(state.sources || {})) {
      const last = src.last_event_ms || src.since_ms || now;
      const age = Math.max(0, (now - last) / 1000);
      const name = src.platform + (src.room ? " " + src.room : "");
      const silent = src.connected && age > 30;
      const state_ = !src.connected ? "離線 gone" : silent ? "無訊息 silent " + L.clock(age)
        : src.last_event_ms ? L.clock(age) + " ago" : "connected";
      sourceRows.push(el("li", { class: silent || !src.connected ? "warn" : "" }, name + " — " + state_));
    }
    $("sources").replaceChildren(...(sourceRows.length ? sourceRows : [el("li", { class: "dim" }, "—")]));
    renderAlerts(alerts);
    for (const li of $("running").querySelectorAll("[data-ends]")) {
      const ends = Number(li.dataset.ends);
      const r = li.querySelector(".remaining");
      if (ends && r) L.setText(r, L.clock(Math.max(0, (ends - now) / 1000)));
    }
  }

  setInterval(tick, 1000);
  client.start();
  actions.resume();  // a reload in the middle of an action: ask again with the same key
  window.consoleClient = client;
  window.consoleApp = { client, actions, act, toast, onState: (f) => listeners.push(f), get state() { return state; } };
})();
