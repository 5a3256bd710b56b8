"""kafka-python reads a record header's key as strict UTF-8, so one header key that is not UTF-8 makes every
poll of its partition raise, before any record reaches leadflow: the partition stops for good. The Java client
decodes header keys leniently (invalid bytes become U+FFFD). This does the same, for the rare record that needs
it: the usual path is kafka-python's own, untouched.
"""

from __future__ import annotations

from typing import Any

from kafka.record.default_records import DefaultRecordBatch

_PATCHED = "_leadflow_lenient_header_keys"


class _LenientBytes(bytes):
    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return super().decode(encoding, "replace")


class _LenientBuffer:
    """The batch's buffer, but a slice decodes leniently (indexing an int is unchanged)."""

    def __init__(self, buffer: bytearray) -> None:
        self._buffer = buffer

    def __getitem__(self, index: Any) -> Any:
        item = self._buffer[index]
        return _LenientBytes(item) if isinstance(index, slice) else item

    def __len__(self) -> int:
        return len(self._buffer)


def tolerate_any_header_key() -> None:
    """Patch kafka-python's record reader once: a record whose header key is not UTF-8 is read, not raised."""
    if getattr(DefaultRecordBatch, _PATCHED, False):
        return
    strict_read = DefaultRecordBatch._read_msg

    def read_msg(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return strict_read(self, *args, **kwargs)
        except UnicodeDecodeError:  # the position was not advanced: read the same record again, leniently
            buffer = self._buffer
            self._buffer = _LenientBuffer(buffer)
            try:
                return strict_read(self, *args, **kwargs)
            finally:
                self._buffer = buffer

    DefaultRecordBatch._read_msg = read_msg
    setattr(DefaultRecordBatch, _PATCHED, True)
