"""Generated tokens survive a restart, so OBS and tablets keep working URLs."""

from pathlib import Path

from livecompanion.config import Settings


def test_generated_tokens_are_kept_in_the_data_dir(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).with_generated_tokens()
    again = Settings(data_dir=tmp_path).with_generated_tokens()
    assert first.viewer_token and first.viewer_token == again.viewer_token
    assert len({first.operator_token, first.ingest_token, first.viewer_token}) == 3
    assert (tmp_path / "tokens.json").stat().st_mode & 0o777 == 0o600


def test_tokens_from_the_environment_win(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIVECOMPANION_VIEWER_TOKEN", "from-env")
    settings = Settings(data_dir=tmp_path).with_generated_tokens()
    assert settings.viewer_token == "from-env" and settings.operator_token
