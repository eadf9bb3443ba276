from enum import StrEnum


class SignedJWTType(StrEnum):
    JWT = "jwt"

    def __str__(self) -> str:
        return str(self.value)
