"""The web dashboard (dark) and the spec's HTTP API, served by ``seeker serve``.

A FastAPI app (``seeker.web.app.create_app``) that reads the same journals, status file and config
as the command line: server-rendered pages (Jinja templates, SVG charts, a little plain
JavaScript, no build step), JSON read endpoints, the spec's four endpoints (``/health``,
``/decision``, ``/risk/evaluate``, ``/history``), live updates by server-sent events, the control
buttons (pause, resume, close, flatten over the local control channel) and controlled editing of
the config (validated, shown as a diff, written to a new file, journaled). It binds to 127.0.0.1
by default; anything that changes state needs the token.
"""
