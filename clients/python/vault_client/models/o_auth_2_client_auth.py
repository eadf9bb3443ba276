from enum import StrEnum


class OAuth2ClientAuth(StrEnum):
    BASIC = "basic"
    BODY = "body"
    NONE = "none"
    PRIVATE_KEY_JWT = "private_key_jwt"

    def __str__(self) -> str:
        return str(self.value)
