from enum import StrEnum


class HMACRequestSignatureTimestampFormat(StrEnum):
    HTTP_DATE = "http-date"
    RFC3339 = "rfc3339"
    UNIX = "unix"
    UNIX_MS = "unix-ms"

    def __str__(self) -> str:
        return str(self.value)
