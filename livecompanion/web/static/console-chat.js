/* The console's chat feed and questions (console.js runs first and shares window.consoleApp).
 *
 * The feed polls GET /api/streams/{id}/comments every 2 s for comments after the last it has (the
 * record's order: every console sees the same lines). Filters: all, questions, buying intent. A
 * click selects a line (P pins it); its 置頂 button pins it at once.
 * Questions: "最近10分鐘" counts the askers of each question in the last ten minutes from the feed;
 * "全場" is the whole stream's board (the `questions` section). A group marked answered
 * (✓ 已回答, shared by every console and the teleprompter through the `answered` section) leaves
 * the list until someone asks it again. */
(function () {
  "use strict";
  const L = window.LiveCompanion;
  const app = window.consoleApp;
  const client = app.client;
  const $ = (id) => document.getElementById(id);
  const el = L.el;
  const RECENT_MS = 10 * 60 * 1000;
  const KEEP_LINES = 200;
  const POLL_MS = 2000;

  let lines = [];  // newest first, at most KEEP_LINES
  let asked = [];  // question lines of the last ten minutes (for the counts), newest first
  let lastSeq = 0;
  let filter = "all";
  let windowMs = RECENT_MS;
  let selected = null;

  function answeredAt(key) { return ((app.state || {}).answered || {})[key] || 0; }

  async function poll() {
    try {
      const since = lastSeq ? undefined : client.now() - RECENT_MS;
      const query = "?after=" + lastSeq + (since ? "&since_ms=" + Math.floor(since) + "&limit=500" : "&limit=200");
      const fresh = await client.streamApi("GET", "/comments" + query);
      if (fresh && fresh.length) {
        lastSeq = Math.max(lastSeq, ...fresh.map((c) => c.seq));
        lines = fresh.concat(lines).slice(0, KEEP_LINES);
        asked = fresh.filter((c) => c.kind === "question").concat(asked);
      }
      const cutoff = client.now() - RECENT_MS;
      asked = asked.filter((c) => c.ts >= cutoff);
      renderChat();
      renderQuestions();
    } catch (e) {
      /* the next poll tries again; the connection indicator says when the service is away */
    }
    setTimeout(poll, POLL_MS);
  }

  function pin(line) {
    return app.act("pin", "POST", "/pins", { text: line.text.slice(0, 500), nickname: line.nickname || undefined },
      "已置頂 " + (line.nickname ? line.nickname + "：" : "") + line.text);
  }

  function renderChat() {
    const shown = lines.filter((c) => filter === "all" || c.kind === filter || (filter === "intent" && c.intents.length));
    const items = shown.slice(0, 80).map((c) => {
      const button = el("button", { type: "button", class: "pin", title: "置頂這則留言" }, "置頂");
      button.addEventListener("click", (event) => { event.stopPropagation(); pin(c); });
      const li = el("li", { class: "line " + c.kind + (selected && selected.seq === c.seq ? " selected" : ""), dataset: { seq: c.seq } }, [
        el("span", { class: "time dim" }, L.timeOfDay(c.ts).slice(0, 5)),
        el("span", { class: "who" }, c.nickname || "觀眾"),
        el("span", { class: "text" }, c.text),
        c.kind === "question" ? el("span", { class: "tag q" }, "提問") : c.intents.length ? el("span", { class: "tag i" }, c.intents[0]) : null,
        button,
      ]);
      li.addEventListener("click", () => { selected = selected && selected.seq === c.seq ? null : c; renderChat(); });
      return li;
    });
    $("chat").replaceChildren(...(items.length ? items : [el("li", { class: "dim" }, filter === "all" ? "還沒有留言" : "沒有符合的留言")]));
  }

  function recentGroups() {
    const groups = new Map();
    for (const c of asked) {
      if (!c.question_key || c.ts <= answeredAt(c.question_key)) continue;
      let g = groups.get(c.question_key);
      if (!g) { g = { key: c.question_key, text: c.text, users: new Set(), asks: 0, last: c.ts }; groups.set(c.question_key, g); }
      g.users.add(c.user_id || "#" + c.seq);
      g.asks += 1;
    }
    return [...groups.values()].map((g) => ({ key: g.key, text: g.text, count: g.users.size, last: g.last }))
      .sort((a, b) => b.count - a.count || b.last - a.last);
  }

  function wholeGroups() {
    return ((app.state || {}).questions || []).filter((q) => !q.key || (q.last || Infinity) > answeredAt(q.key));
  }

  function renderQuestions() {
    const groups = (windowMs === "all" ? wholeGroups() : recentGroups()).slice(0, 12);
    const items = groups.map((q) => {
      const done = el("button", { type: "button", class: "answered", title: "標記為已回答：從主播的清單拿掉，直到再有人問" }, "✓ 已回答");
      done.addEventListener("click", () => app.act("answered:" + q.key, "POST", "/questions/answered", { key: q.key }, "已標記回答", done));
      const pinIt = el("button", { type: "button", class: "pin", title: "置頂這個問題" }, "置頂");
      pinIt.addEventListener("click", () => pin({ text: q.text, nickname: null }));
      return el("li", {}, [el("span", { class: "count" }, "×" + (q.count || 1)), el("span", { class: "text" }, q.text),
        q.key ? done : null, pinIt]);
    });
    $("questions").replaceChildren(...(items.length ? items : [el("li", { class: "dim" }, windowMs === "all" ? "暫無提問" : "最近10分鐘沒有新提問")]));
  }

  for (const tab of document.querySelectorAll("#chat-panel .tab")) {
    tab.addEventListener("click", () => {
      filter = tab.dataset.filter;
      for (const t of document.querySelectorAll("#chat-panel .tab")) t.classList.toggle("on", t === tab);
      renderChat();
    });
  }
  for (const tab of document.querySelectorAll("#questions-panel .tab")) {
    tab.addEventListener("click", () => {
      windowMs = tab.dataset.window === "all" ? "all" : Number(tab.dataset.window);
      for (const t of document.querySelectorAll("#questions-panel .tab")) t.classList.toggle("on", t === tab);
      renderQuestions();
    });
  }

  app.onState(() => renderQuestions());
  renderChat();
  poll();
  window.consoleChat = { selected: () => selected, pin, get lines() { return lines; } };
})();
