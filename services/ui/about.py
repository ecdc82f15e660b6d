"""The About panel's pages: the terms of use and the third-party licences."""

from __future__ import annotations

from flask import Blueprint, render_template

from services.ui import PREFIX, licenses

bp = Blueprint("about", __name__, url_prefix=f"{PREFIX}/about")


@bp.get("/terms")
def terms() -> str:
    """The terms the daemon is provided under."""

    return render_template("terms.html")


@bp.get("/licenses")
def licenses_page() -> str:
    """Every third-party component shipped, with its licence."""

    return render_template("licenses.html", components=licenses.installed())
