"""The dashboard: a Flask app under gunicorn, served below ``/cld``."""

# Everything the dashboard serves lives below this path, so the host's own web
# server can forward https://<host>/cld to it unchanged.
PREFIX = "/cld"
