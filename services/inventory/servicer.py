"""The Inventory gRPC service, for the dashboard."""

from __future__ import annotations

import logging
from datetime import datetime

import grpc
from cld.v1 import inventory_pb2 as pb
from cld.v1 import inventory_pb2_grpc as pb_grpc
from google.protobuf.timestamp_pb2 import Timestamp

from services.inventory.reporter import NotLinkedError, Reporter

log = logging.getLogger(__name__)

# Long enough for one delivery to a reachable cloud; the dashboard should
# not hang on an unreachable one, whose report stays queued.
SUBMIT_WAIT = 5.0


class InventoryServicer(pb_grpc.InventoryServicer):
    """Answers the dashboard's Inventory Report Submission panel."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter

    def GetSubmissionStatus(  # noqa: N802
        self, request: pb.GetSubmissionStatusRequest, context: grpc.ServicerContext
    ) -> pb.SubmissionStatus:
        return self._status()

    def PreviewReport(  # noqa: N802
        self, request: pb.PreviewReportRequest, context: grpc.ServicerContext
    ) -> pb.ReportPreview:
        try:
            return pb.ReportPreview(report_json=self.reporter.preview())
        except NotLinkedError as exc:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
            raise AssertionError("abort returns only by raising") from None

    def SubmitReport(  # noqa: N802
        self, request: pb.SubmitReportRequest, context: grpc.ServicerContext
    ) -> pb.SubmissionStatus:
        try:
            report_id = self.reporter.submit_now(SUBMIT_WAIT)
        except NotLinkedError as exc:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
            raise AssertionError("abort returns only by raising") from None

        log.info("Inventory report %s submitted on demand", report_id)
        return self._status(report_id)

    def GetGateway(  # noqa: N802
        self, request: pb.GetGatewayRequest, context: grpc.ServicerContext
    ) -> pb.Gateway:
        facts = self.reporter.facts()
        gateway = self.reporter.profile.gateway
        return pb.Gateway(
            installed=facts.gateway_installed,
            version=facts.gateway_version or "",
            status_url=gateway.status_url if facts.gateway_installed else "",
        )

    def _status(self, report_id: str = "") -> pb.SubmissionStatus:
        status = self.reporter.status()
        message = pb.SubmissionStatus(
            outbox_depth=status.outbox_depth,
            last_error=status.last_error,
            linked=status.linked,
            rejected_count=status.rejected,
            last_result=status.last_result,
            report_id=report_id,
            platform_name=self.reporter.profile.name,
        )

        if status.last_submission:
            message.last_submission.CopyFrom(_timestamp(status.last_submission))

        if status.next_submission:
            message.next_submission.CopyFrom(_timestamp(status.next_submission))

        return message


def _timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp
