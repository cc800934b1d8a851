from livecompanion.cli import app

app()
