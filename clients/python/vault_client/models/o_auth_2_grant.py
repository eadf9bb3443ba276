from enum import StrEnum


class OAuth2Grant(StrEnum):
    AUTHORIZATION_CODE = "authorization_code"
    CLIENT_CREDENTIALS = "client_credentials"
    JWT_BEARER = "jwt_bearer"

    def __str__(self) -> str:
        return str(self.value)
