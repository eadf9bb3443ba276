from enum import StrEnum


class ImportOutcome(StrEnum):
    CREATED = "created"
    EXISTS = "exists"
    IDTAKEN = "idTaken"

    def __str__(self) -> str:
        return str(self.value)
