/* OBS overlay: countdown, flash sale, pinned comment, lottery, order ticker on one transparent
 * 1920x1080 page. `?widgets=countdown,flash_sale,pinned,lottery,ticker` picks some (default all).
 * Light on memory for a browser source that runs for hours: elements are built once and only their
 * text changes; no animation-frame loop, one 250 ms timer that runs only while a clock is showing.
 * Layout is overlay.css's: areas that cannot overlap; here a widget that goes off fades, then leaves
 * the layout, and the ticker shows only the rows that fit whole in the room its column has left. */
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
    const c = L.runningCountdowns(state, now)[0];
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
    const sale = L.currentSale(state, now);
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
      bonus = bonusLeft > 0 ? "前" + sale.first_n + "名 " + sale.first_n_bonus + " · 還剩 " + bonusLeft + " 名" : "";
    }
    L.setText(q(widget, ".sale-bonus"), bonus);
    const running = status === "running" && sale.ends_at != null;
    L.setText(q(widget, ".sale-time"), running ? L.clock(Math.max(0, Math.ceil((sale.ends_at - now) / 1000)))
      : status === "ended" ? "已結束" : "");
    return running;
  }

  let winnersOf = null;
  function renderLottery(now) {
    const widget = w.lottery;
    if (!widget) return false;
    const lot = L.currentLottery(state);
    const winners = lot ? L.winnerNames(lot) : [];
    const running = !!lot && L.lotteryOpen(lot);
    // A drawn lottery stays up for two minutes, long enough to read the names out.
    const visible = !!lot && (running || now - (lot.drawn_ms || lot.ends_at || now) < 120000);
    show(widget, visible);
    if (!visible) return false;
    L.setText(q(widget, ".lot-keyword"), "評論「" + lot.keyword + "」" + (lot.prize ? " 抽 " + lot.prize : ""));
    const entries = L.lotteryEntrants(lot) != null ? L.lotteryEntrants(lot) + " 人參與" : "";
    const left = lot.ends_at != null ? Math.max(0, Math.ceil((lot.ends_at - now) / 1000)) : null;
    L.setText(q(widget, ".lot-info"), running ? [left != null ? "倒計時 " + L.clock(left) : "", entries].filter(Boolean).join(" · ")
      : winners.length ? "恭喜中獎 " + winners.length + " 位" : "開獎中…");
    const key = JSON.stringify(winners);
    if (key !== winnersOf) {
      winnersOf = key;
      const list = q(widget, ".lot-winners");
      list.classList.toggle("many", winners.length > 5);  // two columns
      list.replaceChildren(...winners.map((n) => L.el("li", {}, n)));
    }
    return running;
  }

  let tickerOf = null;
  function renderTicker() {
    const widget = w.ticker;
    if (!widget) return;
    const items = (state.ticker || []).slice(0, 5);
    show(widget, items.length > 0);
    const key = JSON.stringify(items);
    if (key === tickerOf) return;
    tickerOf = key;
    q(widget, ".ticker-list").replaceChildren(...items.map((t) => {
      const product = (state.products || {})[t.sku] || {};
      return L.el("li", {}, [L.el("span", { class: "who" }, t.nickname || "有人"),
        "剛剛搶到 " + (t.name || product.name || t.sku || "") + (t.qty > 1 ? " ×" + t.qty : "")]);
    }));
    fitTicker();
  }

  function renderPinned() {
    const widget = w.pinned;
    if (!widget) return;
    const pin = state.pinned;
    show(widget, !!pin);
    if (!pin) return;
    L.setText(q(widget, ".pin-nick"), pin.nickname ? pin.nickname + ":" : "");
    L.setText(q(widget, ".pin-text"), pin.text);
  }

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
  window.overlay = { client, widgets: picked, fitTicker, get ticking() { return timer !== null; } };
})();
