from enum import StrEnum


class CredentialUpdatePreset(StrEnum):
    CUSTOM = "custom"
    KONG_HMAC_AUTH = "kong-hmac-auth"
    STANDARD_WEBHOOKS = "standard-webhooks"

    def __str__(self) -> str:
        return str(self.value)
