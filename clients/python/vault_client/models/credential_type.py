from enum import StrEnum


class CredentialType(StrEnum):
    API_KEY = "api_key"
    AWS_SIGV4 = "aws_sigv4"
    BASIC_AUTH = "basic_auth"
    BEARER_TOKEN = "bearer_token"
    CUSTOM = "custom"
    HMAC_SIGNATURE = "hmac_signature"
    JWT = "jwt"
    MTLS = "mtls"
    OAUTH2 = "oauth2"

    def __str__(self) -> str:
        return str(self.value)
