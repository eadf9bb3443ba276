from enum import StrEnum


class ImportIds(StrEnum):
    KEEP = "keep"
    NEW = "new"

    def __str__(self) -> str:
        return str(self.value)
