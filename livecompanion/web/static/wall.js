/* The multi-room wall (/wall): every live room on one screen, for a team lead.
 *
 * One LiveClient (live.js, `WS /ws/streams/{id}`) a room: the same socket, snapshot, patches, gap
 * and resync rules as every other screen (why, and what it costs: livecompanion/api/wall.py).
 * Which rooms: `GET /api/streams?status=live` now and every LIST_EVERY ms; a room's tile shows once
 * its own snapshot says it is live, and leaves as soon as its socket says it ended.
 *
 * The tiles fill the screen without scrolling (columns chosen for the room count and the screen's
 * shape); every size inside a tile follows the tile (CSS container units), so ten rooms on a laptop
 * and three on a 1080p wall are both readable from across the room. A room with an open alert
 * stands out (red frame, its alerts in large type). Outside text only ever goes into textContent.
 */
(function () {
  "use strict";
  const L = window.LiveCompanion;
  const el = L.el, setText = L.setText;
  const LIST_EVERY = 2000;
  const TICK_MS = 250;
  const LEVEL_ORDER = { error: 0, warn: 1, info: 2 };
  const KIND_NAMES = { opening: "開場", product: "產品", value: "價值", closing: "促單", wrapup: "收尾" };

  const token = window.LiveCompanionToken || L.params().get("token") || "";  // token.js took it out of the address
  const OPERATOR = document.getElementById("rooms").dataset.role === "operator";
  const rooms = new Map();  // stream id -> Room
  const $ = (id) => document.getElementById(id);
  let listFailures = 0;
  let listed = false;  // the list of live rooms has been read once (before: no "no rooms" message)

  /** 12,345 / 9.8萬 / 123.4萬: large numbers short enough for a tile. */
  function big(n) {
    const v = Number(n) || 0;
    if (Math.abs(v) >= 100000) return (v / 10000).toFixed(v >= 1e7 ? 0 : 1) + "萬";
    return Math.round(v).toLocaleString("en-US");
  }
  function moneyBig(n) {
    const v = Number(n) || 0;
    if (Math.abs(v) >= 100000) return big(v);
    return Number.isInteger(v) ? v.toLocaleString("en-US") : v.toLocaleString("en-US", { maximumFractionDigits: 2 });
  }

  class Room {
    constructor(id) {
      this.id = id;
      this.live = false;
      this.conn = "connecting";
      this.build();
      this.client = new L.LiveClient({
        streamId: id, token,
        onState: (state) => this.update(state),
        onStatus: (status, event) => this.status(status, event),
      });
      this.client.start();
    }

    build() {
      const f = this.f = {};
      const num = (key, label) => {
        f[key] = el("span", { class: "value" }, "0");
        return el("div", { class: "num " + key, dataset: { metric: key } }, [el("span", { class: "label" }, label), f[key]]);
      };
      // The operator's wall opens a room's console from its title; a viewer's wall links nowhere.
      f.title = OPERATOR
        ? el("a", { class: "title", target: "_blank", rel: "noopener",
                    href: "/streams/" + encodeURIComponent(this.id) + "/console?token=" + encodeURIComponent(token) })
        : el("span", { class: "title" });
      f.host = el("span", { class: "host" });
      f.badge = el("span", { class: "badge hidden" });
      f.segTitle = el("span", { class: "seg-title" });
      f.segClock = el("span", { class: "seg-clock" });
      f.gmvOf = el("span", { class: "of" });
      f.gmvBar = el("i");
      f.saleText = el("span", { class: "sale-text" });
      f.saleLeft = el("span", { class: "sale-left" });
      f.saleBar = el("i");
      f.alerts = el("ul", { class: "room-alerts" });
      const gmv = num("gmv", "GMV");
      gmv.append(f.gmvOf, el("span", { class: "bar" }, f.gmvBar));
      this.node = el("article", { class: "room hidden", dataset: { stream: this.id } }, [
        el("header", { class: "room-head" }, [f.title, f.host, f.badge]),
        el("div", { class: "room-seg" }, [f.segTitle, f.segClock]),
        el("div", { class: "nums" }, [num("viewers", "在線"), num("cpm", "評論/分"), num("orders", "訂單"), gmv]),
        f.sale = el("div", { class: "room-sale none" }, [f.saleText, f.saleLeft, el("span", { class: "bar" }, f.saleBar)]),
        f.alerts,
      ]);
      $("rooms").append(this.node);
    }

    status(status, event) {
      this.conn = status;
      this.node.classList.toggle("offline", status === "offline");
      if (status === "offline" && event && event.code === 4404) remove(this.id);  // the stream is gone
      else updateHeader();
    }

    update(state) {
      this.state = state;
      const live = ((state && state.stream) || {}).status === "live";
      if (!live) {
        if (state && state.stream && state.stream.status === "ended") remove(this.id);
        else this.show(false);
        return;
      }
      this.show(true);
      this.render();
    }

    show(on) {
      if (on === this.live) return;
      this.live = on;
      this.node.classList.toggle("hidden", !on);
      layout();
    }

    render() {
      const s = this.state, f = this.f;
      if (!s || !this.live) return;
      const now = this.client.now();
      const info = s.stream || {};
      setText(f.title, info.title || this.id);
      setText(f.host, info.host || "");
      // The segment and its clock: time used against the target's maximum, coloured as on the console.
      const seg = s.segment;
      if (seg) {
        const kind = KIND_NAMES[seg.kind] || seg.kind || "";
        const title = seg.title || seg.id;
        setText(f.segTitle, (seg.index + 1) + "/" + (info.segment_count || "?") + " " + (title.includes(kind) ? title : kind + "・" + title));
        const used = Math.max(0, (now - (seg.started_ms || now)) / 1000);
        const max = seg.target_max_seconds;
        setText(f.segClock, L.clock(used) + (max != null ? " / " + L.clock(max) : ""));
        f.segClock.className = "seg-clock pace-" + L.pace(used, seg.target_min_seconds, max);
      } else {
        setText(f.segTitle, "—");
        setText(f.segClock, "");
      }
      const m = s.metrics || {};
      setText(f.viewers, big(m.viewers));
      setText(f.cpm, big(m.comments_per_min));
      setText(f.orders, big(m.orders));
      setText(f.gmv, moneyBig(m.gmv));
      const target = Number(((info.targets || {}).gmv)) || 0;
      if (target > 0) {
        const ratio = (Number(m.gmv) || 0) / target;
        setText(f.gmvOf, "目標 " + moneyBig(target) + " · " + Math.round(ratio * 100) + "%");
        f.gmvBar.style.width = Math.min(100, ratio * 100).toFixed(1) + "%";
        f.gmvBar.parentNode.classList.remove("hidden");
      } else {
        setText(f.gmvOf, "未設目標");
        f.gmvBar.parentNode.classList.add("hidden");
      }
      this.renderSale(s, now);
      this.renderAlerts(s);
    }

    renderSale(s, now) {
      const f = this.f;
      const sale = L.currentSale(s, now);
      if (!sale) {
        f.sale.className = "room-sale none";
        setText(f.saleText, "秒殺：無");
        setText(f.saleLeft, "");
        f.saleBar.style.width = "0";
        return;
      }
      const status = L.saleStatus(sale, now);
      const name = sale.name || sale.sku || "";
      const left = sale.ends_at != null && status === "running" ? " · " + L.clock(Math.max(0, (sale.ends_at - now) / 1000)) : "";
      f.sale.className = "room-sale " + status + (status === "running" && sale.stock && sale.remaining / sale.stock <= 0.1 ? " low" : "");
      setText(f.saleText, (status === "running" ? "秒殺 " : status === "sold_out" ? "已售罄 " : "已結束 ") + name + left);
      setText(f.saleLeft, "剩 " + big(sale.remaining) + " / " + big(sale.stock));
      f.saleBar.style.width = (sale.stock ? Math.max(0, Math.min(100, 100 * sale.remaining / sale.stock)) : 0).toFixed(1) + "%";
    }

    openAlerts(s) {
      return Object.values((s && s.alerts) || {}).filter((a) => a && a.acked_ms == null)
        .sort((a, b) => (LEVEL_ORDER[a.level] ?? 1) - (LEVEL_ORDER[b.level] ?? 1) || b.ts - a.ts);
    }

    renderAlerts(s) {
      const f = this.f;
      const open = this.openAlerts(s);
      const sig = open.map((a) => a.id).join("|");
      const loud = open.filter((a) => a.level !== "info");
      this.node.classList.toggle("alerting", loud.length > 0);
      this.node.classList.toggle("alert-error", open.some((a) => a.level === "error"));
      f.badge.classList.toggle("hidden", open.length === 0);
      setText(f.badge, "⚠ " + open.length);
      if (sig === this.alertSig) return;
      this.alertSig = sig;
      const shown = open.slice(0, 2).map((a) =>
        el("li", { class: a.level || "warn", dataset: { alert: a.id } },
          el("div", { class: "said" }, [el("span", { class: "time" }, L.timeOfDay(a.ts)), " ", a.text])));
      if (open.length > 2) shown.push(el("li", { class: "more" }, "還有 " + (open.length - 2) + " 則提醒"));
      f.alerts.replaceChildren(...shown);
      updateHeader();
    }

    stop() { this.client.stop(); this.node.remove(); }
  }

  function remove(id) {
    const room = rooms.get(id);
    if (!room) return;
    rooms.delete(id);
    room.stop();
    layout();
  }

  /** Columns and rows for n tiles on this screen: the arrangement whose tiles are largest at the
   * shape a tile reads best in (about 4:3), every tile on screen at once. */
  function layout() {
    const shown = [...rooms.values()].filter((r) => r.live);
    const n = shown.length;
    $("empty").classList.toggle("hidden", n > 0 || !listed);
    const box = $("rooms");
    const W = box.clientWidth || window.innerWidth, H = box.clientHeight || window.innerHeight;
    let best = { cols: 1, rows: 1, score: -1 };
    for (let cols = 1; cols <= Math.max(1, n); cols++) {
      const rows = Math.ceil(Math.max(1, n) / cols);
      const w = W / cols, h = H / rows;
      const score = Math.min(w / 1.3, h);  // the height a 1.3:1 tile could have in that cell
      if (score > best.score + 0.5) best = { cols, rows, score };
    }
    box.style.gridTemplateColumns = "repeat(" + best.cols + ", minmax(0, 1fr))";
    box.style.gridTemplateRows = "repeat(" + best.rows + ", minmax(0, 1fr))";
    box.dataset.cols = best.cols;
    updateHeader();
  }

  function updateHeader() {
    const shown = [...rooms.values()].filter((r) => r.live);
    setText($("wall-count"), shown.length + " 場直播中");
    const alerting = shown.filter((r) => r.node.classList.contains("alerting")).length;
    $("wall-alerts").classList.toggle("hidden", alerting === 0);
    setText($("wall-alerts"), "⚠ " + alerting + " 場有提醒");
    const offline = [...rooms.values()].some((r) => r.conn !== "live");
    const status = listFailures > 0 ? "offline" : offline ? "connecting" : "live";
    const conn = $("conn");
    conn.className = "conn " + status;
    setText(conn, L.connText(status));
  }

  async function refreshRooms() {
    let list;
    try {
      const response = await fetch("/api/streams?status=live", { headers: { Authorization: "Bearer " + token } });
      if (response.status === 401 || response.status === 403) {
        setText($("wall-count"), "權杖無效或權限不足 (token refused)");
        return;
      }
      if (!response.ok) throw new Error(String(response.status));
      list = await response.json();
      listFailures = 0;
      listed = true;
    } catch (e) {
      listFailures++;
      updateHeader();
      return;
    } finally {
      setTimeout(refreshRooms, LIST_EVERY);
    }
    const wanted = new Set(list.map((s) => s.id));
    for (const id of wanted) if (!rooms.has(id)) rooms.set(id, new Room(id));
    list.forEach((s, i) => { rooms.get(s.id).node.style.order = String(i); });  // the list's order: newest first
    // Not live by the record: leaves, unless its own socket says it is live (the list was read
    // before the room started, or on a replica behind the room's start).
    for (const [id, room] of rooms) if (!wanted.has(id) && !room.live) remove(id);
    layout();
  }

  function tick() {
    setText($("wall-clock"), L.timeOfDay(Date.now()));
    for (const room of rooms.values()) room.render();
  }

  window.addEventListener("resize", layout);
  setInterval(tick, TICK_MS);
  tick();
  refreshRooms();
  window.LiveCompanionWall = { rooms };
})();
