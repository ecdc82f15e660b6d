"""The inventory, updater, tunnel and provisioning calls the dashboard makes."""

from __future__ import annotations

from cld.v1 import inventory_pb2 as inventory_pb
from cld.v1 import inventory_pb2_grpc as inventory_grpc
from cld.v1 import provisioning_pb2 as provisioning_pb
from cld.v1 import provisioning_pb2_grpc as provisioning_grpc
from cld.v1 import tunnel_pb2 as tunnel_pb
from cld.v1 import tunnel_pb2_grpc as tunnel_grpc
from cld.v1 import updater_pb2 as updater_pb
from cld.v1 import updater_pb2_grpc as updater_grpc

from services.ui.backends import CLOUD_TIMEOUT, READ_TIMEOUT, ServiceClient
from services.ui.i18n import N_

# The inventory service waits up to 5 s for the cloud to store a report
# submitted on demand; the dashboard waits a little longer than that.
SUBMIT_TIMEOUT = 15.0

# Rows of the access log the debug view shows.
ACCESS_LOG_ROWS = 20


class InventoryClient(ServiceClient):
    """The inventory service: report submission and the gateway beside us."""

    service = "inventory"
    stub_class = inventory_grpc.InventoryStub
    not_answering = N_("The inventory service is not answering; try again in a moment")

    def submission_status(self) -> inventory_pb.SubmissionStatus:
        """The last and next submission of the inventory report."""

        request = inventory_pb.GetSubmissionStatusRequest()
        return self._call("GetSubmissionStatus", request, READ_TIMEOUT)

    def preview(self) -> bytes:
        """The report the next submission would carry, as JSON."""

        request = inventory_pb.PreviewReportRequest()
        return self._call("PreviewReport", request, READ_TIMEOUT).report_json

    def submit(self) -> inventory_pb.SubmissionStatus:
        """Submits a report now; the status says whether the cloud stored it."""

        request = inventory_pb.SubmitReportRequest()
        return self._call("SubmitReport", request, SUBMIT_TIMEOUT)


class UpdaterClient(ServiceClient):
    """The updater service: the schedule, pause, and updates on demand."""

    service = "updater"
    stub_class = updater_grpc.UpdaterStub
    not_answering = N_("The updater service is not answering; try again in a moment")

    def status(self) -> updater_pb.UpdateStatus:
        """The schedule, the checks and any update in progress."""

        request = updater_pb.GetUpdateStatusRequest()
        return self._call("GetUpdateStatus", request, READ_TIMEOUT)

    def reschedule(self, schedule: updater_pb.UpdateSchedule) -> None:
        """Sets when updates are checked for and applied."""

        request = updater_pb.RescheduleRequest(schedule=schedule)
        self._call("Reschedule", request, READ_TIMEOUT)

    def pause(self) -> None:
        """Holds scheduled updates back."""

        self._call("Pause", updater_pb.PauseRequest(), READ_TIMEOUT)

    def resume(self) -> None:
        """Lets scheduled updates run again."""

        self._call("Resume", updater_pb.ResumeRequest(), READ_TIMEOUT)

    def update_now(self) -> None:
        """Starts an update now; progress follows in the status."""

        self._call("UpdateNow", updater_pb.UpdateNowRequest(), READ_TIMEOUT)


class TunnelClient(ServiceClient):
    """The tunnel service: the tunnels, their states and who used them."""

    service = "tunnel"
    stub_class = tunnel_grpc.TunnelGatewayStub
    not_answering = N_("The tunnel service is not answering; try again in a moment")

    def tunnels(self) -> tunnel_pb.TunnelList:
        """Every tunnel with its state, and the relay connection's."""

        return self._call("ListTunnels", tunnel_pb.ListTunnelsRequest(), READ_TIMEOUT)

    def access_log(self) -> tunnel_pb.AccessLog:
        """The latest visitor connections, newest first."""

        request = tunnel_pb.GetAccessLogRequest(limit=ACCESS_LOG_ROWS)
        return self._call("GetAccessLog", request, READ_TIMEOUT)

    def start(self, component: str, name: str) -> None:
        """Starts one tunnel."""

        self._on_tunnel("StartTunnel", component, name)

    def stop(self, component: str, name: str) -> None:
        """Stops one tunnel."""

        self._on_tunnel("StopTunnel", component, name)

    def start_all(self) -> None:
        """Starts every tunnel."""

        self._call("StartAllTunnels", tunnel_pb.StartAllTunnelsRequest(), READ_TIMEOUT)

    def stop_all(self) -> None:
        """Stops every tunnel."""

        self._call("StopAllTunnels", tunnel_pb.StopAllTunnelsRequest(), READ_TIMEOUT)

    def _on_tunnel(self, method: str, component: str, name: str) -> None:
        ref = tunnel_pb.TunnelRef(component=component, name=name)
        self._call(method, ref, READ_TIMEOUT)


class ProvisioningClient(ServiceClient):
    """The registration service's provisioning of users, for PM's API and the panel.

    It is served on the registration service's socket: the users belong to
    the account that service links.
    """

    service = "registration"
    stub_class = provisioning_grpc.ProvisioningStub

    def check_connection(self) -> provisioning_pb.ConnectionCheck:
        """Whether users can be provisioned now; asks the cloud."""

        request = provisioning_pb.CheckConnectionRequest()
        return self._call("CheckConnection", request, CLOUD_TIMEOUT)

    def put_user(self, user: provisioning_pb.User) -> provisioning_pb.UserResult:
        """Creates or updates ``user`` in the cloud."""

        request = provisioning_pb.PutUserRequest(user=user)
        return self._call("PutUser", request, CLOUD_TIMEOUT)

    def delete_user(self, extension: str) -> provisioning_pb.UserResult:
        """Removes the user with ``extension`` from the cloud."""

        request = provisioning_pb.DeleteUserRequest(extension=extension)
        return self._call("DeleteUser", request, CLOUD_TIMEOUT)

    def get_user(self, extension: str) -> provisioning_pb.ProvisionedUser:
        """The user with ``extension`` as this system provisioned it."""

        request = provisioning_pb.GetUserRequest(extension=extension)
        return self._call("GetUser", request, READ_TIMEOUT)

    def start_sync(self, users: list[provisioning_pb.User]) -> provisioning_pb.Sync:
        """Starts making the cloud match PM's complete list ``users``."""

        request = provisioning_pb.StartSyncRequest(users=users)
        return self._call("StartSync", request, CLOUD_TIMEOUT)

    def get_sync(
        self,
        sync_id: str,
        include_results: bool = False,
        rejected_only: bool = False,
        limit: int = 0,
    ) -> provisioning_pb.Sync:
        """One synchronization, with users' results when asked.

        ``rejected_only`` keeps the rejected users' results and ``limit``
        (0 is all) the first so many of them.
        """

        request = provisioning_pb.GetSyncRequest(
            sync_id=sync_id,
            include_results=include_results,
            rejected_only=rejected_only,
            result_limit=limit,
        )
        return self._call("GetSync", request, READ_TIMEOUT)

    def sync_status(self) -> provisioning_pb.SyncStatus:
        """The running synchronization, the last completed one, and totals."""

        request = provisioning_pb.GetSyncStatusRequest()
        return self._call("GetSyncStatus", request, READ_TIMEOUT)
