from intensity.cli import app

app()
