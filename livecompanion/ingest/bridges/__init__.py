"""Platform bridge mappers: what open-source live clients and shop webhooks deliver -> event dicts.

Each mapper is pure: it takes one decoded message and returns a list of plain dicts that
`livecompanion.events.parse_event` accepts (contract section 2), with `platform` set and `id`
derived from the platform's message id so that a re-delivered message is a duplicate. Messages a
mapper does not use give []; malformed ones raise ValueError saying which field and why.
See docs/bridges.md for the mapping tables and how to write a bridge of your own.
"""

from livecompanion.ingest.bridges.bilibili import map_bilibili
from livecompanion.ingest.bridges.douyin import map_douyin
from livecompanion.ingest.bridges.shopify import map_shopify_order, share_total, verify_shopify_hmac
from livecompanion.ingest.bridges.tiktok import map_tiktok
from livecompanion.ingest.bridges.twitch import map_twitch_line, parse_tags
from livecompanion.ingest.bridges.youtube import map_youtube_message, map_youtube_response

__all__ = [
    "map_bilibili",
    "map_douyin",
    "map_shopify_order",
    "map_tiktok",
    "map_twitch_line",
    "map_youtube_message",
    "map_youtube_response",
    "parse_tags",
    "share_total",
    "verify_shopify_hmac",
]
