"""Event ingest: receiving events, comment understanding (`comments`), platform bridge mappers (`bridges`)."""
