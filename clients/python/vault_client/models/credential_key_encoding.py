from enum import StrEnum


class CredentialKeyEncoding(StrEnum):
    BASE64 = "base64"
    HEX = "hex"
    UTF8 = "utf8"

    def __str__(self) -> str:
        return str(self.value)
