from enum import StrEnum


class WebhookEventType(StrEnum):
    ACCESS_KEY_EXPIRING = "access_key.expiring"
    CREDENTIAL_EXPIRED = "credential.expired"
    CREDENTIAL_EXPIRING = "credential.expiring"
    CREDENTIAL_USE_FAILED = "credential.use_failed"
    KEY_ROTATED = "key.rotated"
    OAUTH_RECONNECTED = "oauth.reconnected"
    OAUTH_RECONNECT_REQUIRED = "oauth.reconnect_required"

    def __str__(self) -> str:
        return str(self.value)
