/* OBS overlay: countdown, flash sale, pinned comment, lottery, order ticker on one transparent
 * 1920x1080 page. `?widgets=countdown,flash_sale,pinned,lottery,ticker` picks some (default all).
 * Light on memory for a browser source that runs for hours: elements are built once and only their
 * text changes; no animation-frame loop, one 250 ms timer that runs only while a clock is showing.
 * Layout is overlay.css's: areas that cannot overlap; here a widget that goes off fades, then leaves
 * the layout, and the ticker shows only the rows that fit whole in the room its column has left.
 * The ticker keeps its rows: a new order adds one row (the only one that animates), rows older than
 * TICKER_MAX_AGE_MS fade out. Lottery winners that do not fit are paged. When the stream ends,
 * every widget goes. */
(function () {
  "use strict";
  const L = window.LiveCompanion;
  const ALL = ["countdown", "flash_sale", "pinned", "lottery", "ticker"];
  const params = L.params();
  const picked = (params.get("widgets") || ALL.join(",")).split(",").map((w) => w.trim()).filter((w) => ALL.includes(w));
  const streamId = decodeURIComponent(location.pathname.split("/")[2] || "");
  const w = {};
  for (const name of ALL) {
    const node = document.getElementById("w-" + name);
    if (picked.includes(name)) { node.hidden = false; node.classList.add("off", "gone"); w[name] = node; }
    else node.remove();
  }
  const q = (widget, sel) => widget.querySelector(sel);
  let state = null;
  let timer = null;
  const FADE_MS = 450;  // overlay.css: .widget transition
  const TICKER_MAX_AGE_MS = 45000;  // "剛剛搶到" is news for this long
  const WINNER_PAGE_MS = 4000;

  /** On: back in the layout, then fade in. Off: fade out, then out of the layout (the others close up). */
  function show(widget, on) {
    if (!widget) return;
    if (on) {
      clearTimeout(widget.goneTimer);
      if (widget.classList.contains("gone")) {
        widget.classList.remove("gone");
        void widget.offsetWidth;  // lay it out faded first, so the fade-in runs
        if (widget === w.ticker) fitTicker();
      }
      widget.classList.remove("off");
    } else if (!widget.classList.contains("off")) {
      widget.classList.add("off");
      widget.goneTimer = setTimeout(() => widget.classList.add("gone"), FADE_MS + 50);
    }
  }

  /** Hide the ticker rows (oldest first: they sit on top) that the column has no room for whole. */
  function fitTicker() {
    const widget = w.ticker;
    if (!widget || widget.classList.contains("gone")) return;
    const rows = widget.querySelectorAll(".ticker-list li");
    for (const li of rows) li.hidden = false;
    const top = widget.getBoundingClientRect().top - 0.5;
    for (const li of rows) if (li.getBoundingClientRect().top < top) li.hidden = true;
  }
  if (w.ticker && window.ResizeObserver) {
    // The room left changes when the countdown or the lottery comes, goes or grows.
    const watch = new ResizeObserver(() => fitTicker());
    for (const other of [w.countdown, w.lottery]) if (other) watch.observe(other);
  }

  function renderCountdown(now) {
    const widget = w.countdown;
    if (!widget) return false;
    const c = ended() ? null : L.runningCountdowns(state, now)[0];
    show(widget, !!c);
    if (!c) return false;
    const left = Math.max(0, Math.ceil((c.ends_at - now) / 1000));
    L.setText(q(widget, ".cd-label"), c.label || "倒計時");
    L.setText(q(widget, ".cd-time"), L.clock(left));
    widget.classList.toggle("final", left <= 10);
    return true;
  }

  let saleBenefitsOf = null;
  function renderSale(now) {
    const widget = w.flash_sale;
    if (!widget) return false;
    const sale = ended() ? null : L.currentSale(state, now);
    show(widget, !!sale);
    if (!sale) return false;
    const product = (state.products || {})[sale.sku] || {};
    const status = L.saleStatus(sale, now);
    widget.classList.toggle("sold_out", status === "sold_out");
    widget.classList.toggle("ended", status === "ended");
    L.setText(q(widget, ".sale-name"), sale.name || product.name || sale.sku || "");
    L.setText(q(widget, ".sale-price"), L.money(sale.price != null ? sale.price : product.live_price));
    L.setText(q(widget, ".sale-list"), L.money(sale.list_price != null ? sale.list_price : product.list_price));
    const benefits = sale.benefits || product.benefits || [];
    const key = JSON.stringify(benefits);
    if (key !== saleBenefitsOf) {
      saleBenefitsOf = key;
      q(widget, ".sale-benefits").replaceChildren(...benefits.map((b) => L.el("li", {}, b)));
    }
    const stock = Number(sale.stock) || 0;
    const left = sale.remaining != null ? Number(sale.remaining) : stock;
    q(widget, ".sale-fill").style.width = (stock ? Math.max(0, Math.min(100, left / stock * 100)) : 0) + "%";
    L.setText(q(widget, ".sale-stock"), status === "sold_out" ? "已搶光 " + stock + " 件" : "僅剩 " + left + " / " + stock + " 件");
    let bonus = "";
    if (sale.first_n && sale.first_n_bonus) {
      const bonusLeft = sale.first_n_left != null ? sale.first_n_left : Math.max(0, sale.first_n - (stock - left));
      bonus = bonusLeft > 0 && status === "running" ? "前" + sale.first_n + "名 " + sale.first_n_bonus + " · 還剩 " + bonusLeft + " 名" : "";
    }
    L.setText(q(widget, ".sale-bonus"), bonus);
    const running = status === "running" && sale.ends_at != null;
    L.setText(q(widget, ".sale-time"), running ? L.clock(Math.max(0, Math.ceil((sale.ends_at - now) / 1000)))
      : status === "ended" ? "已結束" : "");
    return running;
  }

  let winnersOf = null;
  let winnerPages = [];  // [[first index, last index], ...] of the rows that fit together
  let winnerPage = 0;
  let pageTimer = null;

  /** Split the winners into pages of the rows that fit the room the lottery card has. */
  function pageWinners() {
    const widget = w.lottery;
    const list = q(widget, ".lot-winners");
    const rows = [...list.children];
    for (const li of rows) li.hidden = false;
    L.setText(q(widget, ".lot-page"), "");
    winnerPages = [];
    if (!rows.length) return;
    const room = list.clientHeight;
    if (list.scrollHeight <= room + 1) { winnerPages = [[0, rows.length - 1]]; return; }
    const top = list.getBoundingClientRect().top;
    let first = 0, offset = 0;
    for (let i = 0; i < rows.length; i++) {
      const bottom = rows[i].getBoundingClientRect().bottom - top - offset;
      if (bottom > room && i > first) {
        winnerPages.push([first, i - 1]);
        first = i;
        offset = rows[i].getBoundingClientRect().top - top;
      }
    }
    winnerPages.push([first, rows.length - 1]);
    showWinnerPage(0);
  }

  function showWinnerPage(n) {
    const widget = w.lottery;
    const rows = [...q(widget, ".lot-winners").children];
    winnerPage = n % Math.max(1, winnerPages.length);
    const [a, b] = winnerPages[winnerPage] || [0, rows.length - 1];
    rows.forEach((li, i) => { li.hidden = i < a || i > b; });
    L.setText(q(widget, ".lot-page"), winnerPages.length > 1 ? (winnerPage + 1) + " / " + winnerPages.length + " 頁" : "");
    clearTimeout(pageTimer);
    if (winnerPages.length > 1) pageTimer = setTimeout(() => showWinnerPage(winnerPage + 1), WINNER_PAGE_MS);
  }

  function renderLottery(now) {
    const widget = w.lottery;
    if (!widget) return false;
    const lot = L.currentLottery(state);
    const winners = lot ? L.winnerNames(lot) : [];
    const running = !!lot && L.lotteryOpen(lot);
    // A drawn lottery stays up for two minutes, long enough to read the names out.
    const visible = !ended() && !!lot && (running || now - (lot.drawn_ms || lot.ends_at || now) < 120000);
    show(widget, visible);
    if (!visible) { clearTimeout(pageTimer); return false; }
    L.setText(q(widget, ".lot-keyword"), "評論「" + lot.keyword + "」" + (lot.prize ? " 抽 " + lot.prize : ""));
    const entries = L.lotteryEntrants(lot) != null ? L.lotteryEntrants(lot) + " 人參與" : "";
    const left = lot.ends_at != null ? Math.max(0, Math.ceil((lot.ends_at - now) / 1000)) : null;
    L.setText(q(widget, ".lot-info"), running ? [left != null ? "倒計時 " + L.clock(left) : "", entries].filter(Boolean).join(" · ")
      : winners.length ? "恭喜中獎 " + winners.length + " 位" : "開獎中…");
    const key = JSON.stringify(winners);
    if (key !== winnersOf) {
      winnersOf = key;
      const list = q(widget, ".lot-winners");
      const longest = Math.max(0, ...winners.map((n) => n.length));
      list.classList.toggle("many", winners.length > 5 && longest <= 8);  // two columns of short names
      list.classList.toggle("long", winners.length > 1 && longest > 12);  // long names: smaller, one line each
      list.replaceChildren(...winners.map((n, i) => L.el("li", {}, [L.el("span", { class: "n" }, String(i + 1)), n])));
      pageWinners();  // measured now (reading the layout lays it out): no animation frames in a browser source
    }
    return running;
  }

  const tickerRows = new Map();  // row key -> {li, born}
  let tickerAging = null;
  function tickerKey(t) { return [t.ts, t.nickname, t.sku, t.qty].join("|"); }

  function renderTicker() {
    const widget = w.ticker;
    if (!widget) return;
    const now = client.now();
    const items = ended() ? [] : (state.ticker || []).slice(0, 5);
    const list = q(widget, ".ticker-list");
    const keep = new Set();
    let added = false;
    for (const t of items) {
      const key = tickerKey(t);
      // Its age: the order's own time when it is plausible, else when this screen first saw it.
      const born = typeof t.ts === "number" && Math.abs(now - t.ts) < 600000 ? t.ts : now;
      if (now - born > TICKER_MAX_AGE_MS) continue;
      keep.add(key);
      if (tickerRows.has(key)) continue;
      const product = (state.products || {})[t.sku] || {};
      const li = L.el("li", { class: "enter" }, [L.el("span", { class: "who" }, t.nickname || "有人"),
        "剛剛搶到 " + (t.name || product.name || t.sku || "") + (t.qty > 1 ? " ×" + t.qty : "")]);
      li.addEventListener("animationend", () => li.classList.remove("enter"), { once: true });
      tickerRows.set(key, { li, born });
      added = true;
    }
    for (const [key, row] of tickerRows) {
      if (keep.has(key)) continue;
      tickerRows.delete(key);
      row.li.classList.add("leaving");
      setTimeout(() => row.li.remove(), 650);
    }
    if (added) {
      // Newest first in the list (the column shows it at the bottom: column-reverse).
      const order = items.map(tickerKey).filter((k) => tickerRows.has(k)).map((k) => tickerRows.get(k).li);
      for (const li of order) list.append(li);  // moves existing nodes: no re-creation, no re-animation
    }
    show(widget, tickerRows.size > 0);
    fitTicker();
    if (tickerRows.size && !tickerAging) tickerAging = setInterval(() => { if (state) renderTicker(); }, 2000);
    if (!tickerRows.size && tickerAging) { clearInterval(tickerAging); tickerAging = null; }
  }

  function renderPinned() {
    const widget = w.pinned;
    if (!widget) return;
    const pin = ended() ? null : state.pinned;
    show(widget, !!pin);
    if (!pin) return;
    L.setText(q(widget, ".pin-nick"), pin.nickname ? pin.nickname + "：" : "");
    L.setText(q(widget, ".pin-text"), pin.text);
    widget.classList.toggle("long", pin.text.length > 60);
  }

  function ended() { return ((state && state.stream) || {}).status === "ended"; }

  let recheck = null;
  function clocks() {
    const now = client.now();
    const a = renderCountdown(now);
    const b = renderSale(now);
    const c = renderLottery(now);
    const ticking = a || b || c;
    if (ticking && !timer) timer = setInterval(clocks, 250);
    if (!ticking && timer) { clearInterval(timer); timer = null; }
    // A sold-out card or drawn winners linger a while, then go: look again in 5 s (no clock to run).
    const lingering = !ticking && ((w.flash_sale && !w.flash_sale.classList.contains("off")) ||
      (w.lottery && !w.lottery.classList.contains("off")));
    if (lingering && !recheck) recheck = setTimeout(() => { recheck = null; clocks(); }, 5000);
  }

  function render() {
    if (!state) return;
    renderPinned();
    renderTicker();
    clocks();
  }

  const client = new L.LiveClient({ streamId, onState: (s) => { state = s; render(); } });
  client.start();
  window.overlay = { client, widgets: picked, fitTicker, showWinnerPage, get winnerPages() { return winnerPages; },
    get ticking() { return timer !== null; } };
})();
