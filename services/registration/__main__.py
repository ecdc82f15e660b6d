"""Entry point of the registration service."""

from __future__ import annotations

import logging
import threading

import grpc
from cld.v1 import provisioning_pb2_grpc, registration_pb2_grpc
from prometheus_client import Gauge

from services.common import service
from services.common.state import StateStore
from services.registration.cloud_api import CloudApi
from services.registration.link import LinkManager
from services.registration.provisioning.cloud_users import UsersClient
from services.registration.provisioning.engine import Provisioner
from services.registration.provisioning.metrics import ProvisioningMetrics
from services.registration.provisioning.servicer import ProvisioningServicer
from services.registration.provisioning.syncs import SyncBook
from services.registration.servicer import RegistrationServicer

log = logging.getLogger(__name__)


def keep_fresh(manager: LinkManager, stopping: threading.Event) -> None:
    """Refreshes the access token ahead of expiry until the service stops.

    Refreshing ahead, rather than only when a peer asks, is also how a
    revoked refresh token is noticed while nobody is using the link.
    """

    while not stopping.is_set():
        delay = manager.refresh_if_due()
        manager.wakeup.wait(delay)
        manager.wakeup.clear()


def provisioning(context: service.ServiceContext, manager: LinkManager) -> Provisioner:
    """Builds the user provisioning engine and starts its sync worker."""

    config = context.config

    def tokens() -> tuple[str, str]:
        token, _, account = manager.access_token()
        return token, account.system_id

    def account_name() -> str:
        account = manager.account()
        return account.account_name if account else ""

    provisioner = Provisioner(
        SyncBook(config.service_state_dir("registration") / "provisioning"),
        UsersClient(config),
        tokens,
        account_name,
        context.bus.publish_state,
        ProvisioningMetrics(context.registry),
        user_limit=config.provisioning_user_limit,
        retry_max=config.provisioning_retry_max,
        writers=config.provisioning_writers,
    )
    provisioner.announce()

    worker = threading.Thread(
        target=provisioner.run,
        args=(context.stopping,),
        name="provisioning",
        daemon=True,
    )
    worker.start()
    context.on_stop.append(provisioner.stop)
    return provisioner


def setup(context: service.ServiceContext) -> service.Register:
    """Builds the link manager and its gRPC service."""

    store = StateStore(context.config.service_state_dir("registration") / "link.json")
    manager = LinkManager(store, CloudApi(context.config), context.bus.publish_state)
    Gauge(
        "cld_registration_linked",
        "1 while the system is linked to a CloudLink account.",
        registry=context.registry,
    ).set_function(lambda: float(manager.linked))
    manager.announce()

    refresher = threading.Thread(
        target=keep_fresh,
        args=(manager, context.stopping),
        name="token-refresh",
        daemon=True,
    )
    refresher.start()
    context.on_stop.append(manager.wakeup.set)

    provisioner = provisioning(context, manager)

    def register(server: grpc.Server) -> None:
        registration_pb2_grpc.add_RegistrationServicer_to_server(
            RegistrationServicer(manager), server
        )
        provisioning_pb2_grpc.add_ProvisioningServicer_to_server(
            ProvisioningServicer(provisioner), server
        )

    return register


if __name__ == "__main__":
    raise SystemExit(service.run("registration", setup))
