"""After-stream analytics (contract section 4): the report, dashboards and exports.

Pure computation lives in `report` (with `collect`, `windows`, `metrics`); `dashboard` renders HTML,
`exports` writes CSV, `cli` is the `livecompanion report` command.
"""

from livecompanion.analytics.report import compute_report, report_from_table

__all__ = ["compute_report", "report_from_table"]
