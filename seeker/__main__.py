from seeker.cli import app

app()
