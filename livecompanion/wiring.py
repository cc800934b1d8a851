"""The composition root: every service of a running instance, built and wired in one place.

    services = build_services(settings)    # nothing runs yet
    await start(services)                   # timers, writers, pushers
    ...                                     # routers reach `services` through api/deps.py
    await close(services)                   # in reverse order; everything admitted is written

Domains never find each other by name or at import: what one domain tells another is registered
here, explicitly, as in centrifuge's `Node` holding its typed `Broker`:

    ingest  --order listener-->    SalesService.on_orders      (cancels release claimed units)
    ingest  --comment listener-->  LotteryService.on_comments  (keyword comments enter lotteries)
    ingest  --commit listener-->   AlertService.on_commit      (場控 alerts on the audience's events)
    show    --cue runners-->       countdown/pin/note (stream), product_explain (stream.explain),
                                   flash_sale (sales), lottery (lottery)
    show    --section loaders-->   flash_sales, lotteries, metrics/questions/ticker (ingest), obs, alerts
    show    --show listeners-->    ObsService.on_show_moved    (OBS switches scenes with the show)

A newcomer following a claim reads `api/sales.py` (HTTP), `sales/service.py` (the decision and the
wait for the record) and the claim store of this deployment (`sales/store_redis.py` with its drainer
`sales/drain.py`, or `sales/store_sql.py`): `make_claim_store` picks it. Ingest's event store
(`ingest/store_pg.py` or `ingest/store_sqlite.py`, after the database) is picked by `make_store`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from livecompanion.alerts.service import AlertService
from livecompanion.config import Settings
from livecompanion.core import ROLES, Core, Role
from livecompanion.ingest.service import IngestService
from livecompanion.ingest.store import make_store
from livecompanion.looplag import LoopLag
from livecompanion.lottery.service import LotteryService
from livecompanion.obs.service import ObsService
from livecompanion.realtime import make_hub
from livecompanion.realtime.hub import Hub
from livecompanion.sales.service import SalesService, make_claim_store
from livecompanion.storage.db import Database
from livecompanion.storage.streams import live_stream_ids, stream_not_ended
from livecompanion.stream.cue_firing import register_show_cues
from livecompanion.stream.explain import register_explain_cue
from livecompanion.stream.row_write import open_operator_connection
from livecompanion.warm import START_STREAMS, StreamWarmer

log = logging.getLogger(__name__)

LIVE_SECTIONS = ("metrics", "questions", "ticker")  # ingest's sections of the live document
# The pool's connections opened at start: a ten-room evening's first second had the writer, the
# drainer, the lottery and sales reads each opening one (asyncpg connect: ~5 ms of CPU apiece).
WARM_CONNECTIONS = 4


@dataclass(eq=False, kw_only=True)
class Services(Core):
    """A `Core` with the domain services of the instance."""

    ingest: IngestService
    sales: SalesService
    lottery: LotteryService
    obs: ObsService
    alerts: AlertService
    warmer: StreamWarmer  # gets this instance ready for a stream before its traffic comes
    loop_lag: LoopLag  # how late the event loop runs (GET /api/ingest/stats)


def tokens_of(settings: Settings) -> dict[Role, str]:
    tokens: dict[Role, str] = {
        "operator": settings.operator_token or "",
        "ingest": settings.ingest_token or "",
        "viewer": settings.viewer_token or "",
    }
    if not all(tokens[role] for role in ROLES):
        raise ValueError("all three tokens must be set (Settings.with_generated_tokens fills them)")
    return tokens


def build_core(settings: Settings, db: Database, hub: Hub, tokens: dict[Role, str]) -> Core:
    """A core with the show's own cue runners; what the show needs without the other domains."""
    core = Core(settings=settings, db=db, hub=hub, tokens=tokens)
    register_show_cues(core, core.cues)
    register_explain_cue(core, core.cues)
    return core


def build_services(settings: Settings, *, db: Database | None = None, hub: Hub | None = None,
                   ingest_writer_options: dict[str, object] | None = None) -> Services:
    """Every service of an instance, wired; nothing starts until `start`."""
    db = db or Database(settings.resolved_database_url())
    hub = hub or make_hub(settings.redis_url, prefix=settings.redis_prefix)
    core = build_core(settings, db, hub, tokens_of(settings))
    sales = SalesService(core, make_claim_store(settings, db))
    lottery = LotteryService(core)
    alerts = AlertService(core)
    ingest = IngestService(
        core,
        store=make_store(db),
        order_listeners=[sales.on_orders],
        comment_listeners=[lottery.on_comments],
        commit_listeners=[alerts.on_commit],
        writer_options=dict(ingest_writer_options or {}),
    )
    core.cues.register("flash_sale", sales.run_cue)
    core.cues.register("lottery", lottery.run_cue)
    core.sections.register("flash_sales", sales.load_section)
    core.sections.register("lotteries", lottery.load_section)
    core.sections.register("alerts", alerts.load_section)
    obs = ObsService(core)
    core.sections.register("obs", obs.load_section)
    core.show_listeners.register(obs.on_show_moved)
    core.show_listeners.register(ingest.live.on_show_moved)  # an ended stream is released soon after
    core.show_listeners.register(alerts.on_show_moved)
    for section in LIVE_SECTIONS:
        core.sections.register(section, partial(_live_section, ingest, section))
    # What a stream's first requests would read on this instance, read when its first screen connects.
    warmer = StreamWarmer(partial(stream_not_ended, db), [ingest.warm, sales.warm, lottery.warm])
    return Services(
        settings=core.settings, db=core.db, hub=core.hub, tokens=core.tokens, cues=core.cues,
        sections=core.sections, show_listeners=core.show_listeners, ingest=ingest, sales=sales,
        lottery=lottery, obs=obs, alerts=alerts, warmer=warmer, loop_lag=LoopLag(),
    )


async def _live_section(ingest: IngestService, section: str, stream_id: str, _now_ms: int) -> object:
    return await ingest.load_section(section, stream_id)


def warm_up() -> float:
    """Build, before the first request, what the first comment, script and alert check would
    otherwise build on the event loop: the ad-law matcher (its terms file parsed and compiled), the
    question model and the comment rules' caches. On a second instance these first uses fell on the
    show's first seconds: in `scripts/bench_evening.py` the first pin of each room reached that
    instance's screens ~300 ms late, while every later pin took ~30 ms. Returns the seconds it took.
    Run before the collector is tuned (`api/ingest.tune_gc`), so what it builds is frozen too."""
    from time import perf_counter

    from livecompanion.ingest.comments import classify_comment
    from livecompanion.ingest.comments.qmodel import shipped_model
    from livecompanion.scripts.adlaw import find_ad_law_terms

    started = perf_counter()
    find_ad_law_terms("全网最低价，7天见效")
    shipped_model()
    for text in ("这件还有吗？多少钱", "想要 3号链接", "how much is this?", "加我qq 12345678"):
        classify_comment(text)
    return perf_counter() - started


async def start(services: Services) -> None:
    services.loop_lag.start()
    services.sales.start()  # the sale timer, the screen pusher and (with Redis) the drainer
    services.lottery.start()  # the draw timer and the screen pusher
    await services.ingest.start()
    services.obs.start()  # finds the streams whose script has `obs:`; their lease holder talks to OBS
    services.alerts.start()  # the watch loop of the live streams
    try:  # the first requests after a start do not each open a connection, nor read their stream
        await asyncio.gather(open_operator_connection(services.db),  # (it logs its own failure)
                             services.db.open_connections(WARM_CONNECTIONS), services.ingest.open_connections(),
                             services.sales.open_connections())
        services.warmer.touch_all(await live_stream_ids(services.db, START_STREAMS))
    except Exception:  # the record away: the first requests open and read as they come
        log.warning("start: could not get ready for the live streams", exc_info=True)


# How long each step of a shutdown may take. Writing what ingest admitted comes first and gets the
# most; a step over its time is abandoned with a log line, so a SIGTERM always ends the process
# (a dead PostgreSQL or Redis must not keep a stopped instance alive holding its connections).
CLOSE_SECONDS = {"loop lag": 1.0, "warmer": 1.0, "alerts": 2.0, "obs": 3.0, "ingest": 10.0, "lottery": 3.0,
                 "sales": 5.0, "hub": 3.0, "record": 3.0}


async def close(services: Services) -> None:
    """Stop in reverse order of start: ingest first (everything admitted is written and its
    listeners told), then the domains it tells, then the hub and the record; each step bounded.
    OBS goes before them all: it only follows the document, and stops talking to OBS at once."""
    steps: list[tuple[str, Callable[[], Awaitable[None]]]] = [
        ("loop lag", services.loop_lag.close), ("warmer", services.warmer.close),
        ("alerts", services.alerts.close), ("obs", services.obs.close),
        ("ingest", services.ingest.close),
        ("lottery", services.lottery.close),
        ("sales", services.sales.close), ("hub", services.hub.close),
        ("record", services.db.dispose),
    ]
    for name, step in steps:
        try:
            await asyncio.wait_for(step(), CLOSE_SECONDS[name])
        except TimeoutError:
            log.error("shutdown: closing %s took over %.0f s; abandoned", name, CLOSE_SECONDS[name])
        except Exception:  # the next steps still run
            log.exception("shutdown: closing %s failed", name)
