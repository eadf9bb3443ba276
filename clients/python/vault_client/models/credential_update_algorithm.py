from enum import StrEnum


class CredentialUpdateAlgorithm(StrEnum):
    EDDSA = "EdDSA"
    ES256 = "ES256"
    ES384 = "ES384"
    HS256 = "HS256"
    HS384 = "HS384"
    HS512 = "HS512"
    PS256 = "PS256"
    PS384 = "PS384"
    PS512 = "PS512"
    RS256 = "RS256"
    RS384 = "RS384"
    RS512 = "RS512"

    def __str__(self) -> str:
        return str(self.value)
