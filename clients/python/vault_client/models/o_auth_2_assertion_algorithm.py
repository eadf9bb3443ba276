from enum import StrEnum


class OAuth2AssertionAlgorithm(StrEnum):
    EDDSA = "EdDSA"
    ES256 = "ES256"
    ES384 = "ES384"
    PS256 = "PS256"
    PS384 = "PS384"
    PS512 = "PS512"
    RS256 = "RS256"
    RS384 = "RS384"
    RS512 = "RS512"

    def __str__(self) -> str:
        return str(self.value)
