"""The 場控 alert rules: pure functions of the live document, the stream's recent events and a clock.

Two clocks, on purpose. What the audience does (online count, comments, questions) is judged on the
events' own `ts` ("a 30% drop within 60 s" of the stream, however fast a rehearsal replays it); what
the show does (overtime, a cue not fired, a sale, a silent source, GMV pace) is judged on the wall
clock, because that is when the host is late.

Every alert has a `key` that says what it is about (`overtime/<segment>@<start>`, `stock_low/<sale>`,
`question/<question key>`): the service raises a key once per stream, whichever instance sees it
first. No imports of the web or the record here.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from livecompanion.ingest.comments import question_key
from livecompanion.scripts.adlaw import find_ad_law_terms
from livecompanion.scripts.models import AlertSettings

HOST_KINDS = frozenset({"overtime", "cue_late", "stock_low", "sold_out"})  # also on the teleprompter


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str
    level: str  # info | warn | error
    text: str  # one Chinese sentence: what, and where in the show
    segment: str | None
    ts: int

    @property
    def host(self) -> bool:
        return self.kind in HOST_KINDS

    def entry(self) -> dict[str, Any]:
        """The alert in the live document's `alerts` section."""
        return {"id": self.key, "kind": self.kind, "level": self.level, "text": self.text,
                "segment": self.segment, "ts": self.ts, "host": self.host, "acked_ms": None}


@dataclass(frozen=True)
class ShowPlan:
    """What the script says about the whole show: the `gmv` target and the planned length."""

    gmv_target: float | None
    planned_seconds: int | None


def clock(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def where(doc: dict[str, Any]) -> tuple[str | None, str]:
    """(segment id, 「title」) of the live segment, for the sentence."""
    seg = doc.get("segment")
    if not seg:
        return None, "開播前" if (doc.get("stream") or {}).get("status") != "ended" else "下播後"
    return seg.get("id"), f"「{seg.get('title') or seg.get('id')}」"


def is_live(doc: dict[str, Any]) -> bool:
    return (doc.get("stream") or {}).get("status") == "live"


def winding_down(doc: dict[str, Any]) -> bool:
    """The wrap-up segment: the room empties on purpose (the demo at 20x raised three drops there)."""
    return (doc.get("segment") or {}).get("kind") == "wrapup"


@dataclass
class RoomWatch:
    """One stream's recent audience, by event time (kept short: a few minutes of samples).

    The rules run at every ingest commit with comments or viewer counts (ten a second a room in an
    evening), over windows of a minute or two: a room of 500 events a second holds ~1,500 viewer
    counts and ~40,000 comments in them. Looking over them at each commit cost ~1.5 ms (both rules,
    in process), so the answers are kept up to date as events arrive instead: the window's highest
    count (a monotonic queue), the latest point, the comments of the last minute (a heap, emptied as
    the stream's time passes). Each event is handled a constant number of times; the answers are
    those of the look over the window (`tests/alerts/test_room_watch.py` compares them)."""

    stream_ts: int | None = None  # the latest event ts seen: "now" for the audience rules
    viewers: deque[tuple[int, int]] = field(default_factory=deque)  # (ts, count), arrival order
    comments: deque[int] = field(default_factory=deque)
    comments_since: int | None = None
    quiet_until: int = 0  # no comments-collapse alert again before this ts
    questions: dict[str, deque[tuple[int, int]]] = field(default_factory=dict)
    questions_quiet_until: int = 0  # one question alert per `question_seconds` at most
    questions_raised: set[str] = field(default_factory=set)
    # max(viewers): only ever appended to, and the window's trim never reaches it (its ts is the latest).
    _latest: tuple[int, int] | None = field(default=None, repr=False)
    # Candidates for the window's peak, ((count, -ts), arrival number), best first; a later point as
    # good or better makes an earlier one useless (it leaves the window first).
    _peaks: deque[tuple[tuple[int, int], int]] = field(default_factory=deque, repr=False)
    _viewers_in: int = field(default=0, repr=False)  # viewer points ever appended (arrival numbers)
    _viewers_out: int = field(default=0, repr=False)  # ... and trimmed off the left since
    # ts of the comments of `comments` still later than a minute before `stream_ts` (a min-heap:
    # `stream_ts` only grows, so a comment that left the minute never comes back).
    _last_minute: list[int] = field(default_factory=list, repr=False)

    def see(self, kind: str, ts: int, data: dict[str, Any], rules: AlertSettings) -> None:
        if self.stream_ts is None or ts > self.stream_ts:
            self.stream_ts = ts
        if kind == "viewer_count":
            self._add_viewers((ts, int(data["count"])))
        elif kind == "comment":
            self.comments.append(ts)
            heapq.heappush(self._last_minute, ts)
            if self.comments_since is None or ts < self.comments_since:
                self.comments_since = ts

    def _add_viewers(self, point: tuple[int, int]) -> None:
        self.viewers.append(point)
        if self._latest is None or point > self._latest:
            self._latest = point
        key = (point[1], -point[0])
        peaks = self._peaks
        while peaks and peaks[-1][0] <= key:
            peaks.pop()
        peaks.append((key, self._viewers_in))
        self._viewers_in += 1

    def _restart_viewers(self, points: list[tuple[int, int]]) -> None:
        self.viewers, self._latest, self._peaks = deque(), None, deque()
        self._viewers_in = self._viewers_out = 0
        for point in points:
            self._add_viewers(point)

    def may_raise(self, rules: AlertSettings) -> bool:
        """Whether `viewers_drop` or `comments_collapse` could raise an alert now, whatever the live
        document says (it can only stop them: not live, winding down, and it words the sentence).
        The service reads the document at a commit only when one could (a Redis round trip at every
        ingest commit otherwise). Trims the windows as the rules would: trimming sooner leaves the
        same windows, since the stream's time only grows."""
        return self._viewers_fall(rules) is not None or self._comments_fall(rules) is not None

    def _viewers_fall(self, rules: AlertSettings) -> tuple[int, int, int, int] | None:
        """(peak_ts, peak, last_ts, last) when the latest count fell far enough from the window's peak."""
        if not self.viewers:
            return None
        assert self._latest is not None
        last_ts, last = self._latest  # max(self.viewers)
        window = rules.viewers_drop_seconds * 1000
        while self.viewers and self.viewers[0][0] < last_ts - window:
            self.viewers.popleft()
            if self._peaks[0][1] == self._viewers_out:
                self._peaks.popleft()
            self._viewers_out += 1
        (peak, minus_ts), _ = self._peaks[0]  # max(self.viewers, key=lambda p: (p[1], -p[0]))
        peak_ts = -minus_ts
        # A peak of 0 is no fall (viewers_min may be 0): 0 -> 0 would divide by zero in the wording.
        if peak <= 0 or peak < rules.viewers_min or peak_ts >= last_ts or last > peak * (1 - rules.viewers_drop_percent / 100):
            return None
        return peak_ts, peak, last_ts, last

    def viewers_drop(self, rules: AlertSettings, doc: dict[str, Any]) -> Alert | None:
        """The latest count against the peak of the window before it. After an alert the window
        restarts from the low, so one fall is one alert and only a new fall raises another."""
        if not self.viewers or winding_down(doc):
            return None
        fall = self._viewers_fall(rules)
        if fall is None:
            return None
        peak_ts, peak, last_ts, last = fall
        self._restart_viewers([p for p in self.viewers if p[0] >= last_ts])
        seg, title = where(doc)
        drop = round(100 * (peak - last) / peak)
        text = (f"在線人數 {(last_ts - peak_ts) / 1000:.0f} 秒內從 {peak} 跌到 {last}（-{drop}%），"
                f"正在{title}：檢查畫面與話術，考慮上福利留人")
        return Alert(f"viewers_drop/{peak_ts}", "viewers_drop", "error", text, seg, last_ts)

    def _comments_fall(self, rules: AlertSettings) -> tuple[int, int] | None:
        """(comments in the minute before, in the last minute) when they collapsed and may be told."""
        now = self.stream_ts
        if now is None or self.comments_since is None or now - self.comments_since < 120_000:
            return None
        while self.comments and self.comments[0] <= now - 120_000:
            self.comments.popleft()
        last_minute = self._last_minute
        while last_minute and last_minute[0] <= now - 60_000:
            heapq.heappop(last_minute)
        current = len(last_minute)  # sum(1 for t in self.comments if t > now - 60_000)
        before = len(self.comments) - current
        if now < self.quiet_until or before < rules.comments_min_per_min:
            return None
        if current > before * (1 - rules.comments_collapse_percent / 100):
            return None
        return before, current

    def comments_collapse(self, rules: AlertSettings, doc: dict[str, Any]) -> Alert | None:
        """Comments in the last minute against the minute before (event time)."""
        if winding_down(doc):
            return None
        fall = self._comments_fall(rules)
        if fall is None:
            return None
        before, current = fall
        now = self.stream_ts
        assert now is not None
        self.quiet_until = now + 120_000
        seg, title = where(doc)
        text = f"彈幕驟降：每分鐘從 {before} 條降到 {current} 條，正在{title}：拋個問題或福利帶動互動"
        return Alert(f"comments_collapse/{now}", "comments_collapse", "warn", text, seg, now)

    def asked_questions(self, rules: AlertSettings, doc: dict[str, Any], now: int) -> list[Alert]:
        """Questions asked `question_count` times within `question_seconds` and not marked answered
        (the document's `answered`: question key -> ms; asked again after it counts again)."""
        window = rules.question_seconds * 1000
        best: tuple[int, str, str] | None = None  # (asks in the window, key, text)
        for q in doc.get("questions") or []:
            text, count = q.get("text"), int(q.get("count") or 0)
            if not text:
                continue
            history = self.questions.setdefault(text, deque())
            # Only changes are kept: the watch looks 4 times a second, and a stream's time stands
            # still while no events come, so one entry a look grew without end (found by the soak's
            # memory trace). The count at any past time is still the latest entry at or before it.
            if not history or history[-1][1] != count:
                history.append((now, count))
            while len(history) > 1 and history[1][0] <= now - window:
                history.popleft()
            base = history[0][1] if history[0][0] <= now - window else 0
            key = q.get("key") or question_key(text)
            answered_ms = (doc.get("answered") or {}).get(key)
            if count - base < rules.question_count or (answered_ms and (q.get("last") or 0) <= answered_ms):
                continue
            if key in self.questions_raised:
                continue
            if best is None or count - base > best[0]:
                best = (count - base, key, text)
        # The most asked one only, and then quiet for a window: in a busy room many questions pass
        # the count, and a console full of them is one the operator stops reading (the demo raised
        # 16 in an hour before this).
        if best is None or now < self.questions_quiet_until:
            return []
        self.questions_quiet_until = now + window
        seg, title = where(doc)
        asks, key, text = best
        self.questions_raised.add(key)
        return [Alert(f"question/{key}", "question", "warn", f"觀眾問了 {asks} 次還沒回答：「{text}」，正在{title}",
                      seg, now)]


def overtime(doc: dict[str, Any], rules: AlertSettings, now: int) -> Alert | None:
    seg = doc.get("segment")
    if not seg or not seg.get("target_max_seconds") or seg.get("started_ms") is None:
        return None
    elapsed = (now - seg["started_ms"]) / 1000
    if elapsed <= seg["target_max_seconds"] + rules.overtime_grace_seconds:
        return None
    nxt = seg.get("next")
    then = f"請收尾進入「{nxt['title']}」" if nxt else "請收尾下播"
    text = (f"「{seg.get('title') or seg['id']}」超時：已講 {clock(elapsed)}，"
            f"目標最長 {clock(seg['target_max_seconds'])}，{then}")
    return Alert(f"overtime/{seg['id']}@{seg['started_ms']}", "overtime", "error", text, seg["id"], now)


def late_cues(doc: dict[str, Any], rules: AlertSettings, now: int) -> list[Alert]:
    out = []
    seg_id, title = where(doc)
    for key, cue in (doc.get("cues") or {}).items():
        due = cue.get("due_ms")
        if due is None or cue.get("fired_ms") is not None or now < due + rules.cue_late_seconds * 1000:
            continue
        text = f"{title}的提示到點未觸發：{cue.get('summary') or cue.get('action')}（已晚 {clock((now - due) / 1000)}）"
        out.append(Alert(f"cue_late/{key}@{due}", "cue_late", "warn", text, seg_id, now))
    return out


def sales(doc: dict[str, Any], rules: AlertSettings, now: int) -> list[Alert]:
    out = []
    seg_id, title = where(doc)
    for sale_id, sale in (doc.get("flash_sales") or {}).items():
        stock, remaining = int(sale.get("stock") or 0), int(sale.get("remaining") or 0)
        if stock <= 0:
            continue
        name, status = sale.get("name") or sale.get("sku"), sale.get("status")
        over = status in ("ended", "stopped") or (status == "live" and (sale.get("ends_at") or now + 1) <= now)
        if status == "sold_out" or remaining == 0:
            out.append(Alert(f"sold_out/{sale_id}", "sold_out", "info",
                             f"「{name}」已售罄（{stock} 件全部賣出），正在{title}：可預告下一款或補庫存",
                             seg_id, now))
        elif over:
            if remaining / stock * 100 > rules.unsold_percent:
                out.append(Alert(f"sale_unsold/{sale_id}", "sale_unsold", "warn",
                                 f"「{name}」搶購已結束，{remaining}/{stock} 件未售出"
                                 f"（{round(100 * remaining / stock)}%），正在{title}", seg_id, now))
        elif (status == "live" and remaining / stock * 100 <= rules.stock_low_percent
              and not sale.get("sold_out_ms")):  # units a cancelled order gave back after the
            # sell-out are no "push the last units" moment (3 of the demo's 10 alerts were that)
            out.append(Alert(f"stock_low/{sale_id}", "stock_low", "warn",
                             f"「{name}」庫存緊張：只剩 {remaining}/{stock} 件，正在{title}：可以催單",
                             seg_id, now))
    return out


def source_silence(ages: dict[str, int], doc: dict[str, Any], rules: AlertSettings, now: int) -> list[Alert]:
    """`ages`: source name -> wall ms of its last event (a source silent since before the show
    started is silent in it too); one alert per silence (the key holds when it was last heard)."""
    out = []
    seg_id, title = where(doc)
    for name, last in ages.items():
        silent = (now - last) / 1000
        if silent < rules.source_silent_seconds:
            continue
        out.append(Alert(f"source_silent/{name}@{last}", "source_silent", "error",
                         f"資料來源「{name}」已 {silent:.0f} 秒沒有事件（直播中，正在{title}）：檢查橋接與平台連線",
                         seg_id, now))
    return out


def gmv_pace(doc: dict[str, Any], plan: ShowPlan, rules: AlertSettings, now: int) -> Alert | None:
    started = (doc.get("stream") or {}).get("started_ms")
    if not plan.gmv_target or not plan.planned_seconds or started is None:
        return None
    elapsed = (now - started) / 1000
    if elapsed < rules.gmv_pace_after_seconds or elapsed >= plan.planned_seconds:
        return None
    gmv = float((doc.get("metrics") or {}).get("gmv") or 0)
    projected = gmv / elapsed * plan.planned_seconds
    if projected >= plan.gmv_target * (1 - rules.gmv_pace_margin_percent / 100):
        return None
    seg_id, title = where(doc)
    short = round(100 * (plan.gmv_target - projected) / plan.gmv_target)
    text = (f"GMV 進度落後：開播 {clock(elapsed)} 成交 ¥{gmv:,.0f}，按目前速度全場約 ¥{projected:,.0f}，"
            f"比目標 ¥{plan.gmv_target:,.0f} 少 {short}%，正在{title}")
    return Alert("gmv_pace", "gmv_pace", "warn", text, seg_id, now)


@lru_cache(maxsize=512)
def _ad_law(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(hit.term for hit in find_ad_law_terms(text) if hit.level == "violation"))


def ad_law(doc: dict[str, Any], now: int) -> list[Alert]:
    """Pins and notes on screen, and the live segment's pin and note cues not yet fired."""
    seg_id, title = where(doc)
    texts: list[tuple[str, str, str]] = []  # (key, what, text)
    pinned, note = doc.get("pinned"), doc.get("note")
    if pinned and pinned.get("text"):
        texts.append((f"pinned@{pinned.get('pinned_ms')}", "置頂留言", pinned["text"]))
    if note and note.get("text"):
        texts.append((f"note@{note.get('shown_ms')}", "提詞", note["text"]))
    seg = doc.get("segment")
    if seg is not None:
        sheet = doc.get("run_sheet") or []
        row = sheet[seg["index"]] if seg.get("index") is not None and seg["index"] < len(sheet) else {}
        for cue in row.get("cues") or []:
            fired = (doc.get("cues") or {}).get(cue.get("key"), {}).get("fired_ms")
            if cue.get("action") in ("pin", "note") and cue.get("text") and fired is None:
                texts.append((f"cue/{cue['key']}", "置頂提示" if cue["action"] == "pin" else "提詞提示", cue["text"]))
    out = []
    for key, what, text in texts:
        terms = _ad_law(text)
        if terms:
            words = "、".join(f"「{t}」" for t in terms)
            out.append(Alert(f"ad_law/{key}", "ad_law", "error",
                             f"廣告法風險：{title}的{what}含 {words}，出現前請改掉", seg_id, now))
    return out


def show_alerts(doc: dict[str, Any], rules: AlertSettings, plan: ShowPlan, now: int) -> list[Alert]:
    """Everything judged on the wall clock and the document, while the show is live."""
    if not is_live(doc):
        return []
    out = [a for a in (overtime(doc, rules, now), gmv_pace(doc, plan, rules, now)) if a is not None]
    out += late_cues(doc, rules, now) + sales(doc, rules, now)
    if rules.ad_law:
        out += ad_law(doc, now)
    return out
