from enum import StrEnum


class HMACRequestSignatureType(StrEnum):
    HMAC_SIGNATURE = "hmac_signature"

    def __str__(self) -> str:
        return str(self.value)
