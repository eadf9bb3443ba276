from enum import StrEnum


class BasicAuthType(StrEnum):
    BASIC_AUTH = "basic_auth"

    def __str__(self) -> str:
        return str(self.value)
