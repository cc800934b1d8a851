"""The 複盤 summary: the few findings a reviewer reads first, in Chinese, each sentence made from
figures of the report (the JSON's `summary`, a list of sentences; the top of the dashboard).

Every number in a sentence is a figure of the report as the dashboard writes it: an integer, a
money or seconds value with at most two decimals, or a rate as a percentage with one decimal
(tests/analytics/test_summary.py checks each one against the report JSON). Findings, in order:
the headline; the weakest funnel step against history (when there is history); segments far over
or under their target with what they sold; when each flash sale sold out; the most asked
questions; the lottery audit; data-quality caveats.
"""

from __future__ import annotations

from typing import Any

FUNNEL = (("enter_rate", "曝光-觀看率"), ("product_exposure_rate", "觀看-商品曝光率"),
          ("click_rate", "商品曝光-點擊率"), ("click_conversion_rate", "點擊-成交轉化率"))
FAR = 0.5  # a segment this much over its longest target, or under its shortest, is worth a line
QUESTIONS_NAMED = 3


def _n(value: float) -> str:
    """An integer as is; else two decimals at most, trailing zeros dropped."""
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def build_summary(report: dict[str, Any]) -> list[str]:
    if not report.get("start"):
        return ["日誌沒有有效事件，無法複盤。"]
    out = [
        f"本場時長 {_n(report['duration_seconds'])} 秒，成交 GMV {_n(report['gmv'])} 元、{report['orders']} 單，"
        f"觀看人數 {report['viewer_uv']}" + (f"，平台最高在線 {report['pcu']}" if report.get("pcu") is not None else "")
        + "。"
    ]
    out += _funnel_vs_history(report)
    out += _segments(report)
    out += _sales(report)
    questions = report.get("questions") or []
    if questions:
        named = "；".join(f"「{q['text']}」{q['count']} 人問" for q in questions[:QUESTIONS_NAMED])
        out.append(f"觀眾最常問（下場話術先答）：{named}。")
    for lottery in report.get("lotteries") or []:
        seed = lottery.get("seed")
        audit = f"，種子 {seed} 與參與名單摘要可復核" if seed else "，未記錄種子"
        out.append(f"抽獎「{lottery.get('keyword')}」{_n(lottery.get('entrants') or 0)} 人參與，抽出 "
                   f"{len(lottery.get('winners') or [])} 人{audit}。")
    out += _caveats(report)
    return out


def _funnel_vs_history(report: dict[str, Any]) -> list[str]:
    figures = (report.get("history") or {}).get("figures") or {}
    worst = None
    for key, label in FUNNEL:
        h = figures.get(key) or {}
        if h.get("vs_median") is not None and (worst is None or h["vs_median"] < worst[0]):
            worst = (h["vs_median"], key, label, h)
    if worst is None:
        return []
    _, key, label, h = worst
    word = "低於" if report[key] < h["median"] else "不低於"
    sentence = (f"對比歷史 {h['n']} 場，漏斗最弱一環是{label} {_pct(report[key])}，{word}歷史中位數 {_pct(h['median'])}"
                f"（前四分之一為 {_pct(h['best_quarter'])}）。")
    return [sentence]


def _segments(report: dict[str, Any]) -> list[str]:
    out = []
    for seg in report.get("segments") or []:
        actual, top, bottom = seg.get("actual_seconds"), seg.get("target_seconds"), seg.get("target_min_seconds")
        name = seg.get("title") or seg["id"]
        sold = f"成交 {_n(seg['gmv'])} 元、{seg['orders']} 單"
        if top and actual > top * (1 + FAR):
            out.append(f"「{name}」超時：實際 {_n(actual)} 秒，目標最多 {_n(top)} 秒，{sold}。")
        elif bottom and actual < bottom * (1 - FAR):
            out.append(f"「{name}」過短：實際 {_n(actual)} 秒，目標至少 {_n(bottom)} 秒，{sold}。")
    return out


def _sales(report: dict[str, Any]) -> list[str]:
    out = []
    for sale in report.get("flash_sales") or []:
        name = sale.get("name") or sale.get("sku")
        if sale.get("seconds_to_sell_out") is not None:
            out.append(f"秒殺「{name}」{sale['stock']} 件在開始後 {_n(sale['seconds_to_sell_out'])} 秒售罄。")
        else:
            out.append(f"秒殺「{name}」未售罄：賣出 {sale['sold']} / {sale['stock']} 件。")
    return out


def _caveats(report: dict[str, Any]) -> list[str]:
    q = report.get("data_quality") or {}
    out = []
    if q.get("avg_watch_method") == "online_count":
        out.append("注意：日誌沒有離場事件，觀看人數按進場或互動估算（下限），人均觀看時長按平台在線人數計算。")
    if q.get("minutes_without_events"):
        out.append(f"注意：{q['minutes']} 分鐘中有 {q['minutes_without_events']} 分鐘沒有任何事件，可能是橋接斷線。")
    if q.get("rejected") or q.get("duplicates"):
        out.append(f"數據：拒收 {q.get('rejected', 0)} 條、重複 {q.get('duplicates', 0)} 條事件。")
    return out
