"""The Updater gRPC service over the updater."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from cld.v1 import updater_pb2 as pb
from cld.v1 import updater_pb2_grpc as pb_grpc
from google.protobuf.timestamp_pb2 import Timestamp

from services.updater.schedule import DAILY, WEEKLY, Schedule, ScheduleError
from services.updater.status import parse_iso
from services.updater.updater import Updater, UpdaterError

log = logging.getLogger(__name__)

T = TypeVar("T")

_RECURRENCE = {DAILY: pb.RECURRENCE_DAILY, WEEKLY: pb.RECURRENCE_WEEKLY}
_FROM_RECURRENCE = {v: k for k, v in _RECURRENCE.items()}


def schedule_from_message(message: pb.UpdateSchedule) -> Schedule:
    """The schedule a request asks for; ScheduleError naming the bad field."""

    recurrence = _FROM_RECURRENCE.get(message.recurrence)

    if recurrence is None:
        raise ScheduleError("recurrence must be RECURRENCE_DAILY or RECURRENCE_WEEKLY")

    return Schedule(
        recurrence=recurrence,
        hour=message.hour,
        minute=message.minute,
        weekday=message.weekday,
    )


def status_message(status: dict[str, Any]) -> pb.UpdateStatus:
    """The UpdateStatus message for the updater's status document."""

    schedule = status["schedule"]
    message = pb.UpdateStatus(
        schedule=pb.UpdateSchedule(
            recurrence=_RECURRENCE[schedule["recurrence"]],
            weekday=schedule["weekday"],
            hour=schedule["hour"],
            minute=schedule["minute"],
        ),
        paused=status["paused"],
        installed_version=status["installed_version"],
        installed_build_number=status["installed_build_number"],
        available_version=status["available_version"],
        available_build_number=status["available_build_number"],
        update_available=status["update_available"],
        progress=status["progress"],
        progress_detail=status["progress_detail"],
        last_error=status["last_error"],
        time_zone=status["time_zone"],
        default_schedule=status["default_schedule"],
    )

    for field in ("last_update", "last_check", "next_check"):
        stamp = _timestamp(status[field])

        if stamp is not None:
            getattr(message, field).CopyFrom(stamp)

    for entry in status["history"]:
        record = message.history.add(
            from_version=entry["from_version"],
            to_version=entry["to_version"],
            outcome=entry["outcome"],
            reason=entry["reason"],
        )
        stamp = _timestamp(entry["at"])

        if stamp is not None:
            record.at.CopyFrom(stamp)

    return message


def _timestamp(text: str) -> Timestamp | None:
    moment = parse_iso(text)

    if moment is None:
        return None

    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


class UpdaterServicer(pb_grpc.UpdaterServicer):
    """Answers the dashboard."""

    def __init__(self, updater: Updater) -> None:
        self.updater = updater

    def GetUpdateStatus(  # noqa: N802
        self, request: pb.GetUpdateStatusRequest, context: grpc.ServicerContext
    ) -> pb.UpdateStatus:
        return self._status()

    def Reschedule(  # noqa: N802
        self, request: pb.RescheduleRequest, context: grpc.ServicerContext
    ) -> pb.UpdateStatus:
        def reschedule() -> None:
            if not request.HasField("schedule"):
                raise UpdaterError(
                    grpc.StatusCode.INVALID_ARGUMENT, "a schedule is required"
                )

            try:
                schedule = schedule_from_message(request.schedule)
            except ScheduleError as exc:
                raise UpdaterError(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None

            self.updater.reschedule(schedule)

        _guard(context, reschedule)
        return self._status()

    def Pause(  # noqa: N802
        self, request: pb.PauseRequest, context: grpc.ServicerContext
    ) -> pb.UpdateStatus:
        self.updater.set_paused(True)
        return self._status()

    def Resume(  # noqa: N802
        self, request: pb.ResumeRequest, context: grpc.ServicerContext
    ) -> pb.UpdateStatus:
        self.updater.set_paused(False)
        return self._status()

    def UpdateNow(  # noqa: N802
        self, request: pb.UpdateNowRequest, context: grpc.ServicerContext
    ) -> pb.UpdateStatus:
        _guard(context, self.updater.update_now)
        return self._status()

    def _status(self) -> pb.UpdateStatus:
        return status_message(self.updater.status())


def _guard(context: grpc.ServicerContext, action: Callable[[], T]) -> T:
    try:
        return action()
    except UpdaterError as exc:
        log.info("Refused: %s", exc.message, extra={"status": exc.code.name})
        context.abort(exc.code, exc.message)
        raise AssertionError("abort returns only by raising") from None
