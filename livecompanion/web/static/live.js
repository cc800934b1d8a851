/* LiveCompanion live client, shared by every page (console, teleprompter, remote, overlay).
 *
 * Protocol (contract section 5): the socket sends a snapshot {type, rev, server_time, state}, then
 * patches {type, rev, server_time, ops}, rev by rev. A gap in the revs -> we send {"type":"resync"}
 * and ignore patches until the fresh snapshot. A dropped socket reconnects with backoff and starts
 * again from a snapshot. Every message carries server_time: the clock offset is the largest
 * (least delayed) of the recent samples server_time - Date.now(), so every screen shows the same
 * second of a countdown even when the machine's own clock is off.
 *
 * Text from outside (comments, nicknames, script text) only ever goes into textContent.
 */
(function () {
  "use strict";

  // --- ops: the same rules as livecompanion/realtime/state.py ---------------------------------
  function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }

  function applyOp(doc, op) {
    const path = op.path;
    let node = doc;
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i];
      if (!Object.prototype.hasOwnProperty.call(node, key)) {
        if (op.op === "del") return;
        node[key] = {};
      } else if (!isObject(node[key])) {
        throw new Error("patch: " + path.slice(0, i + 1).join("/") + " is not an object");
      }
      node = node[key];
    }
    const last = path[path.length - 1];
    if (op.op === "set") node[last] = op.value;
    else delete node[last];
  }

  /** Apply a list of ops to a document in place. */
  function applyOps(doc, ops) { for (const op of ops) applyOp(doc, op); return doc; }

  // --- pacing: the same rules as livecompanion/stream/pacing.py ---------------------------------
  function amberAt(min, max) {
    if (max == null) return null;
    let mark = max * 0.8;
    if (min != null && min < max) mark = Math.max(mark, min);
    return mark;
  }
  function pace(elapsed, min, max) {
    if (max == null) return "ok";
    if (elapsed > max) return "red";
    const mark = amberAt(min, max);
    return mark != null && elapsed >= mark ? "amber" : "ok";
  }

  // --- small helpers --------------------------------------------------------------------------
  function params() { return new URLSearchParams(location.search); }

  /** base64url of a string's UTF-8 bytes, without padding (a valid subprotocol token). */
  function base64url(text) {
    let binary = "";
    for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  /** "m:ss" (or "h:mm:ss") of a number of seconds; negative shows "-m:ss". */
  function clock(seconds) {
    const sign = seconds < 0 ? "-" : "";
    let s = Math.floor(Math.abs(seconds));
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    const pad = (n) => String(n).padStart(2, "0");
    return sign + (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s);
  }

  /** "HH:MM:SS", 24-hour, of an epoch-ms time in this screen's time zone (never "2:06:54 PM"). */
  function timeOfDay(ms) {
    const d = new Date(ms);
    const pad = (n) => String(n).padStart(2, "0");
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  function money(v) {
    if (v == null || v === "") return "";
    const n = Number(v);
    return Number.isFinite(n) ? (Number.isInteger(n) ? String(n) : n.toFixed(2)) : String(v);
  }

  /** el("div", {class: "x", onclick: fn}, "text" | node | [children]) - text is always text. */
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "class") node.className = v;
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    const list = children == null ? [] : Array.isArray(children) ? children : [children];
    for (const c of list) {
      if (c == null || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function setText(node, text) { if (node && node.textContent !== text) node.textContent = text; }

  // --- the client -----------------------------------------------------------------------------
  class LiveClient {
    /**
     * opts: streamId, token (default ?token=), onState(state, info) after every snapshot/patch,
     * onPatch(ops, message) before onState for patches, onStatus("connecting"|"live"|"offline").
     */
    constructor(opts) {
      this.streamId = opts.streamId;
      // token.js took it from ?token= (and dropped it from the address); a page without it: ?token=.
      this.token = opts.token != null ? opts.token
        : (window.LiveCompanionToken != null ? window.LiveCompanionToken : (params().get("token") || ""));
      this.onState = opts.onState || (() => {});
      this.onPatch = opts.onPatch || (() => {});
      this.onStatus = opts.onStatus || (() => {});
      this.state = null;
      this.rev = null;
      this.samples = [];
      this.offset = 0;
      this.waitingForSnapshot = true;
      this.retry = 0;
      this.ws = null;
      this.stopped = false;
      this.stats = { snapshots: 0, patches: 0, gaps: 0, reconnects: 0 };
    }

    /** Server time now (epoch ms), corrected by the measured offset. */
    now() { return Date.now() + this.offset; }

    start() { this.connect(); return this; }

    stop() { this.stopped = true; if (this.ws) this.ws.close(); }

    /** The socket's URL: no token in it (URLs end up in access logs); see protocols(). */
    url() {
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      return proto + "//" + location.host + "/ws/streams/" + encodeURIComponent(this.streamId);
    }

    /** The token as a subprotocol (api/tokens.py): `livecompanion` and `bearer.<base64url>`. */
    protocols() {
      return this.token ? ["livecompanion", "bearer." + base64url(this.token)] : [];
    }

    connect() {
      this.onStatus("connecting");
      this.waitingForSnapshot = true;
      const ws = new WebSocket(this.url(), this.protocols());
      this.ws = ws;
      ws.onmessage = (event) => this.receive(event.data);
      ws.onclose = (event) => {
        if (this.ws !== ws) return;
        this.ws = null;
        this.onStatus("offline", event);
        if (this.stopped || event.code === 1008 || event.code === 4404) return;  // bad token / no stream
        const delay = Math.min(10000, 500 * Math.pow(2, this.retry++)) * (0.75 + Math.random() * 0.5);
        this.stats.reconnects++;
        setTimeout(() => this.connect(), delay);
      };
    }

    clockSample(serverTime) {
      if (typeof serverTime !== "number") return;
      this.samples.push(serverTime - Date.now());
      if (this.samples.length > 20) this.samples.shift();
      this.offset = Math.max.apply(null, this.samples);
    }

    receive(text) {
      let message;
      try { message = JSON.parse(text); } catch (e) { return; }
      this.clockSample(message.server_time);
      if (message.type === "snapshot") {
        this.state = message.state;
        this.rev = message.rev;
        this.waitingForSnapshot = false;
        this.retry = 0;
        this.stats.snapshots++;
        this.onStatus("live");
        this.onState(this.state, { type: "snapshot", rev: this.rev });
      } else if (message.type === "patch") {
        if (this.waitingForSnapshot || this.state == null) return;
        if (message.rev <= this.rev) return;
        if (message.rev !== this.rev + 1) { this.resync(); return; }
        try {
          applyOps(this.state, message.ops);
        } catch (e) {
          this.resync();
          return;
        }
        this.rev = message.rev;
        this.stats.patches++;
        this.onPatch(message.ops, message);
        this.onState(this.state, { type: "patch", rev: this.rev, ops: message.ops });
      }
    }

    resync() {
      this.stats.gaps++;
      this.waitingForSnapshot = true;
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send('{"type":"resync"}');
    }

    /** Call the API with this page's token; resolves to the JSON body, rejects with an Error whose
     * message is Chinese first (errorText), `.status` the HTTP status (0: no answer), `.code` the
     * machine-readable detail. `opts.key` is sent as the Idempotency-Key (contract section 5). */
    async api(method, path, body, opts) {
      const headers = { "Authorization": "Bearer " + this.token };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      if (opts && opts.key) headers["Idempotency-Key"] = opts.key;
      let response;
      try {
        response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      } catch (e) {
        const error = new Error("連線失敗，請檢查網路後重試 (no answer from the service)");
        error.status = 0;
        throw error;
      }
      let data = null;
      if (response.status !== 204) { try { data = await response.json(); } catch (e) { data = null; } }
      if (!response.ok) {
        const error = new Error(errorText(response.status, data));
        error.status = response.status;
        error.code = data && typeof data.detail === "string" ? data.detail : null;
        error.data = data;
        throw error;
      }
      return data;
    }

    streamApi(method, tail, body, opts) {
      return this.api(method, "/api/streams/" + encodeURIComponent(this.streamId) + tail, body, opts);
    }
  }

  // --- errors, Chinese first ------------------------------------------------------------------
  const ERROR_CODES = {
    sale_running: "這個商品已有一場秒殺在進行：先停止它，再開新的",
    ended: "直播已結束，控制已關閉；如需繼續，請按「重新開播」",
    sold_out: "已售罄", limit_reached: "已達每人限購",
    idempotency_key_in_use: "上一次點擊還在處理中，請稍候",
    order_id_conflict: "訂單編號已被另一筆搶購使用",
  };
  const ERROR_STATUS = {
    400: "請求有誤", 401: "缺少權杖或權杖無效", 403: "這個權杖沒有權限做這件事", 404: "找不到（場次或項目不存在）",
    409: "與目前狀態衝突", 410: "已經結束", 413: "內容太大", 422: "輸入有誤", 429: "太頻繁，請稍後再試",
    500: "伺服器出錯，請稍後再試", 503: "服務暫時無法使用，請稍後重試",
  };

  /** One line for people: what went wrong in Chinese, then the service's own words. */
  function errorText(status, data) {
    const detail = data && data.detail;
    if (Array.isArray(detail)) {
      const fields = detail.map((d) => {
        const where = (d.loc || []).filter((p) => p !== "body").join(".");
        return (where ? "「" + where + "」" : "") + (d.msg || "");
      });
      return "輸入有誤：" + fields.join("；");
    }
    const code = typeof detail === "string" ? detail : null;
    const zh = (code && ERROR_CODES[code]) || ERROR_STATUS[status] || "操作失敗 (" + status + ")";
    if (code && ERROR_CODES[code]) return ERROR_CODES[code];  // a known code says it all, in Chinese
    const words = (data && data.message) || code || "";
    const tail = words && !zh.includes(words) ? "（" + words.split(" / ")[0] + "）" : "";
    return zh + tail;
  }

  /** A random Idempotency-Key (crypto.randomUUID is missing on plain-http LAN pages). */
  function newKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /**
   * Operator actions that are safe to click twice. Each action has a name ("next", "sale", ...):
   * while one is under way, another click of it returns the same promise (no second request); its
   * Idempotency-Key is kept in sessionStorage until an answer comes, so a retry after a lost
   * answer, or after a reload in the middle, sends the same key and the service acts once.
   * The button shows that it is under way (.busy) and what came of it (.ok / .fail, 2 s).
   */
  const DOUBLE_CLICK_MS = 800;

  class Actions {
    constructor(client, report) {
      this.client = client;
      this.report = report || (() => {});
      this.store = "livecompanion.pending." + client.streamId;
      this.inflight = new Map();
      this.recent = new Map();  // name -> {promise, at, tail, body}: the answer a double click shares
    }

    load() { try { return JSON.parse(sessionStorage.getItem(this.store)) || {}; } catch (e) { return {}; } }
    save(all) { try { sessionStorage.setItem(this.store, JSON.stringify(all)); } catch (e) { /* private mode */ } }

    busy(name) { return this.inflight.has(name); }

    /** run("sale", {method, tail, body, label, button}) -> the answer (rejects with the error). */
    run(name, spec) {
      const running = this.inflight.get(name);
      if (running) return running;
      // The second click of a double click often comes after a fast answer to the first: the same
      // action within DOUBLE_CLICK_MS of that answer is the same click, not a new one.
      const last = this.recent.get(name);
      if (last && Date.now() - last.at < DOUBLE_CLICK_MS && last.tail === spec.tail &&
          JSON.stringify(last.body) === JSON.stringify(spec.body)) return last.promise;
      const all = this.load();
      const same = all[name] && all[name].tail === spec.tail && JSON.stringify(all[name].body) === JSON.stringify(spec.body);
      const key = same ? all[name].key : newKey();
      all[name] = { key, method: spec.method, tail: spec.tail, body: spec.body, label: spec.label, at: Date.now() };
      this.save(all);
      const button = spec.button || null;
      if (button) { button.classList.remove("ok", "fail"); button.classList.add("busy"); button.setAttribute("aria-busy", "true"); }
      const done = (ok) => {
        this.inflight.delete(name);
        this.recent.set(name, { promise, at: Date.now(), tail: spec.tail, body: spec.body });
        if (!button) return;
        button.classList.remove("busy");
        button.removeAttribute("aria-busy");
        button.classList.add(ok ? "ok" : "fail");
        clearTimeout(button.outcomeTimer);
        button.outcomeTimer = setTimeout(() => button.classList.remove("ok", "fail"), 2000);
      };
      const promise = this.client.streamApi(spec.method, spec.tail, spec.body, { key }).then((answer) => {
        this.forget(name, key);
        done(true);
        if (spec.label) this.report((spec.label) + " ✓", true, name);
        return answer;
      }, (error) => {
        if (error.status !== 0) this.forget(name, key);  // an answer came: the next click is a new action
        done(false);
        this.report((spec.label ? spec.label + "：" : "") + error.message, false, name);
        throw error;
      });
      this.inflight.set(name, promise);
      return promise;
    }

    forget(name, key) {
      const all = this.load();
      if (all[name] && all[name].key === key) { delete all[name]; this.save(all); }
    }

    /** After a reload: ask again, with the same keys, for the actions that had no answer yet. */
    resume() {
      const all = this.load();
      for (const [name, p] of Object.entries(all)) {
        if (Date.now() - p.at > 10 * 60 * 1000) { delete all[name]; continue; }
        this.run(name, Object.assign({}, p, { label: "重新整理前的操作 " + (p.label || name) })).catch(() => {});
      }
      this.save(all);
    }
  }

  // --- shared readings of the document --------------------------------------------------------

  /** The flash sale to show: the newest running one, else the newest that ended in the last 30 s.
   * Sale statuses (sales package): live | sold_out | ended | stopped; "running" here means live. */
  function currentSale(state, now) {
    const sales = Object.entries((state && state.flash_sales) || {}).map(([id, s]) => Object.assign({ id }, s));
    if (!sales.length) return null;
    const running = sales.filter((s) => saleStatus(s, now) === "running");
    const pick = (list) => list.sort((a, b) => (b.started_ms || 0) - (a.started_ms || 0))[0] || null;
    if (running.length) return pick(running);
    const recent = sales.filter((s) => now - (s.sold_out_ms || s.stopped_ms || s.ends_at || 0) < 30000);
    return pick(recent);
  }

  function saleStatus(sale, now) {
    if (sale.status === "sold_out" || sale.remaining === 0) return "sold_out";
    if (sale.status === "ended" || sale.status === "stopped") return "ended";
    if (sale.ends_at != null && now >= sale.ends_at) return "ended";
    return "running";
  }

  /** A lottery still taking entries (status "open"; not drawn yet). */
  function lotteryOpen(lottery) {
    if (lottery.status) return lottery.status === "open" || lottery.status === "running";
    return !lottery.drawn_ms && !winnerNames(lottery).length;
  }

  /** The lottery to show: the newest open one, else the newest. */
  function currentLottery(state) {
    const all = Object.entries((state && state.lotteries) || {}).map(([id, l]) => Object.assign({ id }, l));
    if (!all.length) return null;
    all.sort((a, b) => (b.started_ms || 0) - (a.started_ms || 0));
    return all.find(lotteryOpen) || all[0];
  }

  function lotteryEntrants(lottery) {
    const n = lottery.entrants != null ? lottery.entrants : lottery.entries;
    return n == null ? null : n;
  }

  function winnerNames(lottery) {
    const list = (lottery && lottery.winners) || [];
    const raw = Array.isArray(list) ? list : (list.nicknames || list.user_ids || []);
    return raw.map((w) => (w && typeof w === "object") ? (w.nickname || w.user_id || "") : String(w));
  }

  /** Running countdowns, soonest end first. */
  function runningCountdowns(state, now) {
    return Object.entries((state && state.countdowns) || {})
      .map(([id, c]) => Object.assign({ id }, c))
      .filter((c) => c.ends_at > now)
      .sort((a, b) => a.ends_at - b.ends_at);
  }

  /** The next cue of the live segment that has not fired, with its due time. */
  function nextCue(state) {
    const seg = state && state.segment;
    if (!seg) return null;
    const cues = Object.entries(state.cues || {})
      .map(([key, c]) => Object.assign({ key }, c))
      .filter((c) => c.segment === seg.id && c.fired_ms == null)
      .sort((a, b) => a.at_seconds - b.at_seconds);
    return cues[0] || null;
  }

  /** The connection indicator's words: it says whether this screen hears the service, nothing about
   * being on air (the show's status says that). */
  function connText(status) {
    return { live: "● 已連線", connecting: "○ 連線中…", offline: "✕ 已斷線，重連中" }[status] || status;
  }

  window.LiveCompanion = {
    LiveClient, Actions, errorText, newKey, connText, applyOps, pace, amberAt, clock, timeOfDay, money, el, setText, params,
    currentSale, saleStatus, currentLottery, lotteryOpen, lotteryEntrants, winnerNames, runningCountdowns, nextCue,
  };
})();
