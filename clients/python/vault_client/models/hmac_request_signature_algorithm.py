from enum import StrEnum


class HMACRequestSignatureAlgorithm(StrEnum):
    HMAC_SHA256 = "HMAC-SHA256"
    HMAC_SHA512 = "HMAC-SHA512"

    def __str__(self) -> str:
        return str(self.value)
