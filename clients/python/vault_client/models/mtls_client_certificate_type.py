from enum import StrEnum


class MTLSClientCertificateType(StrEnum):
    MTLS = "mtls"

    def __str__(self) -> str:
        return str(self.value)
