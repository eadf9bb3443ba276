from enum import StrEnum


class CredentialCertificateFormat(StrEnum):
    PEM = "pem"
    PKCS12 = "pkcs12"

    def __str__(self) -> str:
        return str(self.value)
