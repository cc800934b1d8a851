"""One module per platform transport; each yields raw messages in the recorded format
(livecompanion/ingest/bridges/recorded.py). Platform client libraries are imported inside their
module's functions only, so `pip install livecompanion` alone works without any of them."""
