"""The dashboard's Flask app."""

from __future__ import annotations

# Werkzeug encodes every request's host name with the "idna" codec, whose
# module Python imports on first use. A first use that races another import
# in a threaded worker can fail, and the failure is cached for the life of
# the process as "unknown encoding: idna"; importing it here, before any
# worker thread runs, takes the race away.
import encodings.idna  # noqa: F401
import logging

from flask import Flask, Response, make_response, redirect, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from prometheus_client import CollectorRegistry
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from services.common.config import Config
from services.ui import (
    PREFIX,
    about,
    actions,
    auth,
    context,
    dashboard,
    host,
    i18n,
    proxy,
    sessions,
)
from services.ui.api import clients_file
from services.ui.api import errors as api_errors
from services.ui.api import views as api
from services.ui.api.credentials import ApiClients
from services.ui.backends import RegistrationClient
from services.ui.clients import (
    InventoryClient,
    ProvisioningClient,
    TunnelClient,
    UpdaterClient,
)
from services.ui.live import LiveState
from services.ui.metrics import RequestMetrics, instrument
from services.ui.throttle import LoginThrottle

log = logging.getLogger(__name__)

# Pages need their own stylesheet and script, and the script asks this
# dashboard only. form-action is left open: "Link to CloudLink" posts a form
# that redirects to the cloud's sign-in page.
_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def create_app(
    config: Config,
    registration: RegistrationClient | None = None,
    registry: CollectorRegistry | None = None,
    live: LiveState | None = None,
    platform: host.Host | None = None,
) -> Flask:
    """The dashboard for ``config``.

    ``registration`` defaults to the registration service in the runtime
    folder; ``registry`` receives the request metrics (a fresh one by
    default); ``live`` is the bus state shown (empty by default, fed by a
    BusWatch under gunicorn); ``platform`` is the host as read from its
    platform profile (read now by default). Raises ConfigError when a ui
    setting is not valid.
    """

    networks = proxy.trusted_networks(config.ui_trusted_proxies)
    auth.check_header(config.ui_auth_header, config.ui_trusted_proxies)
    i18n.check_setting(config.ui_language)

    app = Flask(__name__, static_url_path=f"{PREFIX}/static")
    sessions.configure(app, config)
    app.config.update(
        # A dashboard left open all day must still take a click; the token
        # lives as long as the session instead.
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    provisioning = ProvisioningClient(config.runtime_dir)
    parts = context.Dashboard(
        registration=registration or RegistrationClient(config.runtime_dir),
        provisioning=provisioning,
        inventory=InventoryClient(config.runtime_dir),
        updater=UpdaterClient(config.runtime_dir),
        tunnel=TunnelClient(config.runtime_dir),
        users_file=config.users_file(),
        throttle=LoginThrottle(),
        secure_cookies=config.ui_secure_cookies,
        live=live or LiveState(),
        host=platform or host.read_host(config),
        language=i18n.supported(config.ui_language) or "",
        auth_header=config.ui_auth_header,
        clock_check=config.tunnel_clock_check,
    )
    app.extensions[context.EXTENSION] = parts
    catalogues = i18n.compile_catalogues(
        i18n.SOURCE, i18n.compiled_dir(config.runtime_dir)
    )
    i18n.install(app, catalogues, parts.host_language, parts.host.zone)
    app.context_processor(_page_context)

    # Timing first so every answer is counted; the login check before the
    # CSRF check so a logged-out browser is sent to the login page.
    instrument(app, RequestMetrics(registry or CollectorRegistry()))
    auth.install(app)
    csrf = CSRFProtect(app)
    app.after_request(_security_headers)

    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(about.bp)
    app.register_blueprint(actions.bp)
    api.install(
        app,
        api.Api(provisioning, ApiClients(clients_file(config)), LoginThrottle()),
    )
    csrf.exempt(api.bp)
    app.add_url_rule("/", "root", _root)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)

    app.wsgi_app = proxy.TrustedProxyFix(app.wsgi_app, networks)  # type: ignore[method-assign]
    return app


def _page_context() -> dict[str, str]:
    return {
        "platform_name": context.dashboard().host.name,
        "lang": i18n.current_language(),
    }


def _root() -> BaseResponse:
    return redirect(f"{request.script_root}{PREFIX}/")


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"

    # The link callback's address carries a one-time code; it must not leak
    # to another site through the Referer header.
    response.headers["Referrer-Policy"] = "same-origin"

    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"

    return response


def _csrf_error(exc: CSRFError) -> tuple[str, int]:
    log.warning("Refused a form without a valid CSRF token: %s", exc.description)
    message = i18n.gettext(
        "The form was open too long or did not come from this dashboard. "
        "Go back, reload the page and try again."
    )

    # Browsers drop Secure cookies on plain HTTP, so the form's token never
    # matches; say so rather than leave the user retrying.
    if not request.is_secure and context.dashboard().secure_cookies:
        message += " " + i18n.gettext(
            "The dashboard's cookies need HTTPS: open it through https://, or"
            " set CLD_UI_SECURE_COOKIES=false for plain-HTTP development."
        )

    return render_template(
        "error.html", title=i18n.gettext("This form has expired"), message=message
    ), 400


def _http_error(exc: HTTPException) -> Response:
    # Routing errors below the API's path have no blueprint to answer them;
    # its clients read JSON, not an error page.
    if api.serves(request.path):
        return api_errors.from_http(exc)

    code = exc.code or 500
    response = make_response(
        render_template(
            "error.html", title=f"{code} {exc.name}", message=exc.description
        ),
        code,
    )

    # 405 answers list the allowed methods in Allow; keep such headers.
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value

    return response
