"""Live scripts (直播腳本): load, validate with exact locations, lint for advertising-law terms."""

from livecompanion.scripts.findings import Finding
from livecompanion.scripts.models import Script, Segment
from livecompanion.scripts.validate import LoadResult, check_file, check_text

load_script_file = check_file
load_script_text = check_text

__all__ = [
           "Finding",
           "LoadResult",
           "Script",
           "Segment",
           "check_file",
           "check_text",
           "load_script_file",
           "load_script_text",
]
