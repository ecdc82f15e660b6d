"""The inventory, updater and tunnel services, as the dashboard calls them."""

from __future__ import annotations

from cld.v1 import inventory_pb2 as inventory_pb
from cld.v1 import inventory_pb2_grpc as inventory_grpc
from cld.v1 import tunnel_pb2 as tunnel_pb
from cld.v1 import tunnel_pb2_grpc as tunnel_grpc
from cld.v1 import updater_pb2 as updater_pb
from cld.v1 import updater_pb2_grpc as updater_grpc

from services.ui.backends import READ_TIMEOUT, ServiceClient
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
        status: inventory_pb.SubmissionStatus = self._call(
            "GetSubmissionStatus", request, READ_TIMEOUT
        )
        return status

    def preview(self) -> bytes:
        """The report the next submission would carry, as JSON."""

        request = inventory_pb.PreviewReportRequest()
        preview: inventory_pb.ReportPreview = self._call(
            "PreviewReport", request, READ_TIMEOUT
        )
        return preview.report_json

    def submit(self) -> inventory_pb.SubmissionStatus:
        """Submits a report now; the status says whether the cloud stored it."""

        request = inventory_pb.SubmitReportRequest()
        status: inventory_pb.SubmissionStatus = self._call(
            "SubmitReport", request, SUBMIT_TIMEOUT
        )
        return status


class UpdaterClient(ServiceClient):
    """The updater service: the schedule, pause, and updates on demand."""

    service = "updater"
    stub_class = updater_grpc.UpdaterStub
    not_answering = N_("The updater service is not answering; try again in a moment")

    def status(self) -> updater_pb.UpdateStatus:
        """The schedule, the checks and any update in progress."""

        request = updater_pb.GetUpdateStatusRequest()
        status: updater_pb.UpdateStatus = self._call(
            "GetUpdateStatus", request, READ_TIMEOUT
        )
        return status

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

        request = tunnel_pb.ListTunnelsRequest()
        listing: tunnel_pb.TunnelList = self._call("ListTunnels", request, READ_TIMEOUT)
        return listing

    def access_log(self) -> tunnel_pb.AccessLog:
        """The latest visitor connections, newest first."""

        request = tunnel_pb.GetAccessLogRequest(limit=ACCESS_LOG_ROWS)
        log: tunnel_pb.AccessLog = self._call("GetAccessLog", request, READ_TIMEOUT)
        return log

    def start(self, component: str, name: str) -> None:
        """Starts one tunnel."""

        ref = tunnel_pb.TunnelRef(component=component, name=name)
        self._call("StartTunnel", ref, READ_TIMEOUT)

    def stop(self, component: str, name: str) -> None:
        """Stops one tunnel."""

        ref = tunnel_pb.TunnelRef(component=component, name=name)
        self._call("StopTunnel", ref, READ_TIMEOUT)

    def start_all(self) -> None:
        """Starts every tunnel."""

        self._call("StartAllTunnels", tunnel_pb.StartAllTunnelsRequest(), READ_TIMEOUT)

    def stop_all(self) -> None:
        """Stops every tunnel."""

        self._call("StopAllTunnels", tunnel_pb.StopAllTunnelsRequest(), READ_TIMEOUT)
