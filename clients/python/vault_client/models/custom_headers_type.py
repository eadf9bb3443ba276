from enum import StrEnum


class CustomHeadersType(StrEnum):
    CUSTOM = "custom"

    def __str__(self) -> str:
        return str(self.value)
