"""LiveCompanion: a self-hosted companion service for live-stream selling (直播帶貨)."""

__version__ = "0.1.0"
