from enum import StrEnum


class Permission(StrEnum):
    MANAGE = "manage"
    USE = "use"

    def __str__(self) -> str:
        return str(self.value)
