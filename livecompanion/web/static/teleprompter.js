/* The host's teleprompter. Everything the host reads scales with A+/A- (teleprompter.css), the whole
 * stage mirrors (h/v), ad-law phrases the lint flags are marked in the text, the next segment is
 * previewed under the current one, and a note from the console shows in the side panel. Keys: 1-9 speed presets, space play/pause (3-2-1 before scrolling starts),
 * arrows up/down scroll a line, left/right slower/faster, PageUp/PageDown (presentation clickers) a
 * screen, h / v mirror, + / - font size, Home or r back to the top. A phone or the console drives
 * it too: commands arrive as patches to the `prompter` section. Settings stay in localStorage. */
(function () {
  "use strict";
  const L = window.LiveCompanion;
  const $ = (id) => document.getElementById(id);
  const el = L.el;
  const streamId = document.body.dataset.streamId;
  const viewport = $("viewport");
  const STORE = "livecompanion.teleprompter";

  const saved = (() => { try { return JSON.parse(localStorage.getItem(STORE)) || {}; } catch (e) { return {}; } })();
  const prefs = { speed: 3, font: 64, mirrorH: false, mirrorV: false, ...saved };
  let state = null;
  let shownSegment = undefined;  // the segment whose text is on screen (id or null)
  let shownStatus = null;
  let playing = false;
  let counting = null;  // the 3-2-1 timer
  let pos = 0;
  let lastFrame = 0;

  function save() { try { localStorage.setItem(STORE, JSON.stringify(prefs)); } catch (e) { /* private mode */ } }

  // ---- scrolling -----------------------------------------------------------------------------
  function pxPerSecond() { return prefs.speed * prefs.font * 0.22; }
  function maxPos() { return Math.max(0, viewport.scrollHeight - viewport.clientHeight); }
  function scrollTo(p) { pos = Math.min(Math.max(0, p), maxPos()); viewport.scrollTop = pos; }

  function frame(t) {
    if (!playing) return;
    if (lastFrame) scrollTo(pos + (t - lastFrame) / 1000 * pxPerSecond());
    lastFrame = t;
    if (pos >= maxPos()) { pause(); return; }
    requestAnimationFrame(frame);
  }

  function play() {
    if (playing || counting) return;
    let n = 3;
    const box = $("c321");
    box.classList.remove("hidden");
    L.setText(box, String(n));
    counting = setInterval(() => {
      n -= 1;
      if (n > 0) { L.setText(box, String(n)); return; }
      clearInterval(counting);
      counting = null;
      box.classList.add("hidden");
      playing = true;
      lastFrame = 0;
      showControls();
      requestAnimationFrame(frame);
    }, 1000);
    showControls();
  }

  function pause() {
    if (counting) { clearInterval(counting); counting = null; $("c321").classList.add("hidden"); }
    playing = false;
    showControls();
  }

  function toggle() { if (playing || counting) pause(); else play(); }
  function line() { return prefs.font * 1.5; }

  function setSpeed(n) { prefs.speed = Math.min(9, Math.max(1, Math.round(n))); save(); showControls(); }
  function setFont(px) {
    const ratio = pos / Math.max(1, viewport.scrollHeight);
    prefs.font = Math.min(160, Math.max(28, px));
    document.documentElement.style.setProperty("--tp-font", prefs.font + "px");
    scrollTo(ratio * viewport.scrollHeight);
    save();
  }
  function mirror(axis) {
    if (axis === "h") prefs.mirrorH = !prefs.mirrorH; else prefs.mirrorV = !prefs.mirrorV;
    save();
    applyMirror();
  }
  function applyMirror() {
    const stage = $("stage");
    stage.classList.toggle("mirror-h", prefs.mirrorH);
    stage.classList.toggle("mirror-v", prefs.mirrorV);
    showControls();
  }

  function command(action, value) {
    switch (action) {
      case "play": play(); break;
      case "pause": pause(); break;
      case "toggle": toggle(); break;
      case "speed": setSpeed(value); break;
      case "faster": setSpeed(prefs.speed + 1); break;
      case "slower": setSpeed(prefs.speed - 1); break;
      case "back": scrollTo(pos - (value || 3) * line()); break;
      case "forward": scrollTo(pos + (value || 3) * line()); break;
      case "top": pause(); scrollTo(0); break;
      case "bigger": setFont(prefs.font + 6); break;
      case "smaller": setFont(prefs.font - 6); break;
      case "mirror_h": mirror("h"); break;
      case "mirror_v": mirror("v"); break;
    }
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const k = event.key;
    if (/^[1-9]$/.test(k)) setSpeed(Number(k));
    else if (k === " ") toggle();
    else if (k === "ArrowUp") command("back", 1);
    else if (k === "ArrowDown") command("forward", 1);
    else if (k === "ArrowLeft") command("slower");
    else if (k === "ArrowRight") command("faster");
    else if (k === "PageUp") scrollTo(pos - viewport.clientHeight * 0.8);
    else if (k === "PageDown") scrollTo(pos + viewport.clientHeight * 0.8);
    else if (k === "h" || k === "H") mirror("h");
    else if (k === "v" || k === "V") mirror("v");
    else if (k === "+" || k === "=") command("bigger");
    else if (k === "-" || k === "_") command("smaller");
    else if (k === "Home" || k === "r" || k === "R") command("top");
    else return;
    event.preventDefault();
  });
  viewport.addEventListener("wheel", (event) => { scrollTo(pos + event.deltaY); event.preventDefault(); }, { passive: false });

  const buttons = { "b-play": "toggle", "b-slower": "slower", "b-faster": "faster", "b-smaller": "smaller",
    "b-bigger": "bigger", "b-mirror-h": "mirror_h", "b-mirror-v": "mirror_v", "b-top": "top" };
  for (const [id, action] of Object.entries(buttons)) $(id).addEventListener("click", (e) => { command(action); e.currentTarget.blur(); });

  function showControls() {
    L.setText($("b-play"), playing || counting ? "❙❙ 暫停" : "▶ 播放");
    L.setText($("speed"), String(prefs.speed));
    $("b-mirror-h").classList.toggle("on", prefs.mirrorH);
    $("b-mirror-v").classList.toggle("on", prefs.mirrorV);
  }

  // ---- the live document -----------------------------------------------------------------------
  function showText() {
    const seg = state.segment;
    const st = state.stream || {};
    const id = seg ? seg.id : null;
    if (id === shownSegment && !(id === null && st.status !== shownStatus)) return;
    const wasPlaying = playing || counting;
    shownSegment = id;
    shownStatus = st.status;
    pause();
    const box = $("text");
    if (seg) {
      const sheet = state.run_sheet || [];
      const entry = sheet[seg.index] || {};
      const paragraphs = markedParagraphs(entry.text || "", entry.adlaw || []);
      box.replaceChildren(...(paragraphs.length ? paragraphs : [el("p", { class: "waiting" }, seg.title)]));
      const following = sheet[seg.index + 1];
      if (following) {
        const first = (following.text || "").split(/\n\s*\n/)[0].trim();
        box.append(el("div", { class: "preview" }, [el("span", { class: "label" }, "下一段預告 " + (seg.index + 2) + ". " + following.title),
          first ? el("p", {}, first) : null]));
      }
    } else if (st.status === "ended") {
      box.replaceChildren(el("p", { class: "waiting" }, "直播結束，辛苦了！"));
    } else {
      box.replaceChildren(el("p", { class: "waiting" }, (st.title || "") + "\n等待開播"));
    }
    scrollTo(0);
    if (wasPlaying && seg) play();  // next segment: count in and keep rolling
  }

  /** The host's text as paragraphs, with the ad-law lint's hits (offsets into `text`) marked. */
  function markedParagraphs(text, hits) {
    const out = [];
    const re = /\n\s*\n/g;
    let start = 0;
    const ranges = [];
    for (let m; (m = re.exec(text));) { ranges.push([start, m.index]); start = m.index + m[0].length; }
    ranges.push([start, text.length]);
    for (let [a, b] of ranges) {
      while (a < b && /\s/.test(text[a])) a++;
      while (b > a && /\s/.test(text[b - 1])) b--;
      if (a >= b) continue;
      const p = el("p");
      let at = a;
      for (const h of hits) {
        if (h.end <= a || h.start >= b) continue;
        const s = Math.max(a, h.start), e = Math.min(b, h.end);
        if (s > at) p.append(text.slice(at, s));
        p.append(el("mark", { class: "adlaw", title: "廣告法風險：" + (h.reason || h.category || "") }, text.slice(s, e)));
        at = e;
      }
      if (at < b) p.append(text.slice(at, b));
      out.push(p);
    }
    return out;
  }

  function render() {
    if (!state) return;
    showText();
    const seg = state.segment;
    L.setText($("seg-title"), seg ? seg.title : (state.stream || {}).title || "");
    L.setText($("seg-next"), seg && seg.next ? "下一段：" + seg.next.title : seg ? "最後一段" : "");
    const note = state.note;
    $("note").classList.toggle("hidden", !note);
    L.setText($("note"), note ? "📝 " + note.text : "");
    const intent = Object.entries((state.metrics || {}).intent || {}).sort((a, b) => b[1] - a[1]).slice(0, 4);
    $("intent").replaceChildren(...intent.map(([word, n]) => el("li", {}, word + " ×" + n)));
    // The host's alerts (overtime, a cue not fired, stock), large; the operator acknowledges them.
    const hostAlerts = Object.values(state.alerts || {}).filter((a) => a.host && a.acked_ms == null)
      .sort((a, b) => b.ts - a.ts).slice(0, 2);
    $("tp-alerts").classList.toggle("hidden", !hostAlerts.length);
    $("tp-alerts").replaceChildren(...hostAlerts.map((a) => el("div", { class: "tp-alert " + (a.level || "warn") }, a.text)));
    const answered = state.answered || {};
    const qs = (state.questions || []).filter((q) => !q.key || !answered[q.key] || (q.last || 0) > answered[q.key]).slice(0, 5);
    $("questions").replaceChildren(...(qs.length ? qs.map((q) => el("li", {}, [el("span", { class: "count" }, "×" + (q.count || 1)), q.text]))
      : [el("li", { class: "dim" }, "—")]));
    tick();
  }

  function tick() {
    if (!state) return;
    const now = client.now();
    const seg = state.segment;
    const clockEl = $("seg-clock");
    const leftEl = $("seg-left");
    if (seg && seg.started_ms) {
      const elapsed = (now - seg.started_ms) / 1000;
      const pace = L.pace(elapsed, seg.target_min_seconds, seg.target_max_seconds);
      L.setText(clockEl, L.clock(elapsed));
      clockEl.className = "clock pace-" + pace;
      const left = seg.target_max_seconds != null ? seg.target_max_seconds - elapsed : null;
      L.setText(leftEl, left == null ? "" : left >= 0 ? "剩 " + L.clock(left) : "超時 " + L.clock(-left));
      leftEl.className = "left pace-" + pace;
    } else {
      L.setText(clockEl, "0:00");
      clockEl.className = "clock";
      L.setText(leftEl, "");
    }
    const cue = L.nextCue(state);
    const cueEl = $("cue");
    if (cue) {
      const due = cue.due_ms != null ? (cue.due_ms - now) / 1000 : null;
      L.setText(cueEl, (due != null && due <= 0 ? "現在：" : "下一個：") + cue.summary + (due != null && due > 0 ? " · " + L.clock(due) + " 後" : ""));
      cueEl.className = "tp-cue" + (due != null && due <= 0 ? " now" : "");
    } else {
      L.setText(cueEl, "");
      cueEl.className = "tp-cue";
    }
    const sale = L.currentSale(state, now);
    const stock = $("stock");
    if (sale) {
      const status = L.saleStatus(sale, now);
      const left = sale.remaining != null ? sale.remaining : sale.stock;
      L.setText(stock, status === "sold_out" ? "已售罄" : status === "ended" ? "秒殺已結束" : "庫存 剩 " + left + "/" + sale.stock);
      stock.className = "tp-stock " + status;
    } else {
      stock.className = "tp-stock hidden";
    }
    const countdowns = L.runningCountdowns(state, now);
    const cd = $("countdown");
    cd.classList.toggle("hidden", !countdowns.length);
    if (countdowns.length) L.setText(cd, (countdowns[0].label || "倒計時") + " " + L.clock((countdowns[0].ends_at - now) / 1000));
  }

  const client = new L.LiveClient({
    streamId,
    onState: (s) => { state = s; render(); },
    onPatch: (ops) => {
      for (const op of ops) {
        if (op.path[0] === "prompter" && op.op === "set" && op.value && op.value.action) command(op.value.action, op.value.value);
      }
    },
    onStatus: (status) => { const c = $("conn"); c.className = "conn " + status; L.setText(c, L.connText(status)); },
  });

  setFont(prefs.font);
  applyMirror();
  setInterval(tick, 250);
  client.start();
  window.teleprompter = { client, command, prefs, get playing() { return playing; }, get pos() { return pos; } };
})();
