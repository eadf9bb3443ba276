from enum import StrEnum


class AWSSignatureV4Type(StrEnum):
    AWS_SIGV4 = "aws_sigv4"

    def __str__(self) -> str:
        return str(self.value)
