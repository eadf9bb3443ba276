from enum import StrEnum


class BearerTokenType(StrEnum):
    BEARER_TOKEN = "bearer_token"

    def __str__(self) -> str:
        return str(self.value)
