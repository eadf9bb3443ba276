from enum import StrEnum


class Scope(StrEnum):
    ACCESS_KEYSMANAGE = "access-keys:manage"
    AUDITREAD = "audit:read"
    CREDENTIALSEXPORT = "credentials:export"
    CREDENTIALSREAD = "credentials:read"
    CREDENTIALSROUTE = "credentials:route"
    CREDENTIALSUSE = "credentials:use"
    CREDENTIALSUSE_ALL = "credentials:use-all"
    CREDENTIALSWRITE = "credentials:write"
    KEYSREAD = "keys:read"
    WEBHOOKSMANAGE = "webhooks:manage"

    def __str__(self) -> str:
        return str(self.value)
