from __future__ import annotations

from tandem.api.ui.bar_chart import stacked_bars


def test_bars_stack_by_state_and_escape_their_labels() -> None:
    svg = str(stacked_bars([{"success": 3, "failed": 1}, {"success": 0, "failed": 0}], ["success", "failed"],
                           label='outcomes <script>', bucket_seconds=300))
    assert svg.count("<rect") == 2  # the empty bucket draws nothing
    assert 'class="bar-success"' in svg and 'class="bar-failed"' in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "10 min ago: success 3, failed 1" in svg
