"""Contains all the data models used in inputs/outputs"""

from .access_key import AccessKey
from .access_key_create import AccessKeyCreate
from .access_key_created import AccessKeyCreated
from .access_key_list import AccessKeyList
from .api_key import APIKey
from .api_key_type import APIKeyType
from .audit_chain_break import AuditChainBreak
from .audit_chain_link import AuditChainLink
from .audit_chain_point import AuditChainPoint
from .audit_chain_status import AuditChainStatus
from .audit_checkpoint import AuditCheckpoint
from .audit_checkpoint_list import AuditCheckpointList
from .audit_event import AuditEvent
from .audit_event_list import AuditEventList
from .aws_signature_v4 import AWSSignatureV4
from .aws_signature_v4_type import AWSSignatureV4Type
from .basic_auth import BasicAuth
from .basic_auth_type import BasicAuthType
from .bearer_token import BearerToken
from .bearer_token_type import BearerTokenType
from .budget import Budget
from .common_create import CommonCreate
from .connect_started import ConnectStarted
from .connection import Connection
from .credential import Credential
from .credential_algorithm import CredentialAlgorithm
from .credential_assertion_algorithm import CredentialAssertionAlgorithm
from .credential_authorization_params import CredentialAuthorizationParams
from .credential_certificate_format import CredentialCertificateFormat
from .credential_claims import CredentialClaims
from .credential_client_auth import CredentialClientAuth
from .credential_grant import CredentialGrant
from .credential_key_encoding import CredentialKeyEncoding
from .credential_list import CredentialList
from .credential_preset import CredentialPreset
from .credential_secret_hints import CredentialSecretHints
from .credential_signature_encoding import CredentialSignatureEncoding
from .credential_signature_headers import CredentialSignatureHeaders
from .credential_timestamp_format import CredentialTimestampFormat
from .credential_type import CredentialType
from .credential_type_list import CredentialTypeList
from .credential_type_schema import CredentialTypeSchema
from .credential_type_schema_derived_item import CredentialTypeSchemaDerivedItem
from .credential_type_schema_fields_item import CredentialTypeSchemaFieldsItem
from .credential_update import CredentialUpdate
from .credential_update_algorithm import CredentialUpdateAlgorithm
from .credential_update_assertion_algorithm import CredentialUpdateAssertionAlgorithm
from .credential_update_authorization_params import CredentialUpdateAuthorizationParams
from .credential_update_certificate_format import CredentialUpdateCertificateFormat
from .credential_update_claims import CredentialUpdateClaims
from .credential_update_client_auth import CredentialUpdateClientAuth
from .credential_update_grant import CredentialUpdateGrant
from .credential_update_headers import CredentialUpdateHeaders
from .credential_update_key_encoding import CredentialUpdateKeyEncoding
from .credential_update_preset import CredentialUpdatePreset
from .credential_update_signature_encoding import CredentialUpdateSignatureEncoding
from .credential_update_signature_headers import CredentialUpdateSignatureHeaders
from .credential_update_timestamp_format import CredentialUpdateTimestampFormat
from .credential_usage import CredentialUsage
from .custom_headers import CustomHeaders
from .custom_headers_headers import CustomHeadersHeaders
from .custom_headers_type import CustomHeadersType
from .export_request import ExportRequest
from .grant import Grant
from .grant_create import GrantCreate
from .grant_list import GrantList
from .health import Health
from .hmac_request_signature import HMACRequestSignature
from .hmac_request_signature_algorithm import HMACRequestSignatureAlgorithm
from .hmac_request_signature_key_encoding import HMACRequestSignatureKeyEncoding
from .hmac_request_signature_preset import HMACRequestSignaturePreset
from .hmac_request_signature_signature_encoding import HMACRequestSignatureSignatureEncoding
from .hmac_request_signature_signature_headers import HMACRequestSignatureSignatureHeaders
from .hmac_request_signature_timestamp_format import HMACRequestSignatureTimestampFormat
from .hmac_request_signature_type import HMACRequestSignatureType
from .import_ids import ImportIds
from .import_outcome import ImportOutcome
from .import_request import ImportRequest
from .import_result import ImportResult
from .imported_item import ImportedItem
from .key_manager_readiness import KeyManagerReadiness
from .key_status import KeyStatus
from .key_usage import KeyUsage
from .mtls_client_certificate import MTLSClientCertificate
from .mtls_client_certificate_certificate_format import MTLSClientCertificateCertificateFormat
from .mtls_client_certificate_type import MTLSClientCertificateType
from .o_auth_2 import OAuth2
from .o_auth_2_assertion_algorithm import OAuth2AssertionAlgorithm
from .o_auth_2_authorization_params import OAuth2AuthorizationParams
from .o_auth_2_client_auth import OAuth2ClientAuth
from .o_auth_2_grant import OAuth2Grant
from .o_auth_2_type import OAuth2Type
from .permission import Permission
from .placement import Placement
from .problem import Problem
from .problem_field import ProblemField
from .proxy_request import ProxyRequest
from .proxy_request_headers import ProxyRequestHeaders
from .readiness import Readiness
from .request_log_entry import RequestLogEntry
from .request_log_list import RequestLogList
from .scope import Scope
from .signed_jwt import SignedJWT
from .signed_jwt_algorithm import SignedJWTAlgorithm
from .signed_jwt_claims import SignedJWTClaims
from .signed_jwt_type import SignedJWTType
from .usage_bucket import UsageBucket
from .version import Version
from .version_list import VersionList
from .version_secret_hints import VersionSecretHints
from .webhook import Webhook
from .webhook_create import WebhookCreate
from .webhook_delivery import WebhookDelivery
from .webhook_delivery_list import WebhookDeliveryList
from .webhook_delivery_status import WebhookDeliveryStatus
from .webhook_event_type import WebhookEventType
from .webhook_list import WebhookList
from .webhook_payload import WebhookPayload
from .webhook_payload_data import WebhookPayloadData
from .webhook_update import WebhookUpdate
from .webhook_with_secret import WebhookWithSecret

__all__ = (
    "AccessKey",
    "AccessKeyCreate",
    "AccessKeyCreated",
    "AccessKeyList",
    "APIKey",
    "APIKeyType",
    "AuditChainBreak",
    "AuditChainLink",
    "AuditChainPoint",
    "AuditChainStatus",
    "AuditCheckpoint",
    "AuditCheckpointList",
    "AuditEvent",
    "AuditEventList",
    "AWSSignatureV4",
    "AWSSignatureV4Type",
    "BasicAuth",
    "BasicAuthType",
    "BearerToken",
    "BearerTokenType",
    "Budget",
    "CommonCreate",
    "Connection",
    "ConnectStarted",
    "Credential",
    "CredentialAlgorithm",
    "CredentialAssertionAlgorithm",
    "CredentialAuthorizationParams",
    "CredentialCertificateFormat",
    "CredentialClaims",
    "CredentialClientAuth",
    "CredentialGrant",
    "CredentialKeyEncoding",
    "CredentialList",
    "CredentialPreset",
    "CredentialSecretHints",
    "CredentialSignatureEncoding",
    "CredentialSignatureHeaders",
    "CredentialTimestampFormat",
    "CredentialType",
    "CredentialTypeList",
    "CredentialTypeSchema",
    "CredentialTypeSchemaDerivedItem",
    "CredentialTypeSchemaFieldsItem",
    "CredentialUpdate",
    "CredentialUpdateAlgorithm",
    "CredentialUpdateAssertionAlgorithm",
    "CredentialUpdateAuthorizationParams",
    "CredentialUpdateCertificateFormat",
    "CredentialUpdateClaims",
    "CredentialUpdateClientAuth",
    "CredentialUpdateGrant",
    "CredentialUpdateHeaders",
    "CredentialUpdateKeyEncoding",
    "CredentialUpdatePreset",
    "CredentialUpdateSignatureEncoding",
    "CredentialUpdateSignatureHeaders",
    "CredentialUpdateTimestampFormat",
    "CredentialUsage",
    "CustomHeaders",
    "CustomHeadersHeaders",
    "CustomHeadersType",
    "ExportRequest",
    "Grant",
    "GrantCreate",
    "GrantList",
    "Health",
    "HMACRequestSignature",
    "HMACRequestSignatureAlgorithm",
    "HMACRequestSignatureKeyEncoding",
    "HMACRequestSignaturePreset",
    "HMACRequestSignatureSignatureEncoding",
    "HMACRequestSignatureSignatureHeaders",
    "HMACRequestSignatureTimestampFormat",
    "HMACRequestSignatureType",
    "ImportedItem",
    "ImportIds",
    "ImportOutcome",
    "ImportRequest",
    "ImportResult",
    "KeyManagerReadiness",
    "KeyStatus",
    "KeyUsage",
    "MTLSClientCertificate",
    "MTLSClientCertificateCertificateFormat",
    "MTLSClientCertificateType",
    "OAuth2",
    "OAuth2AssertionAlgorithm",
    "OAuth2AuthorizationParams",
    "OAuth2ClientAuth",
    "OAuth2Grant",
    "OAuth2Type",
    "Permission",
    "Placement",
    "Problem",
    "ProblemField",
    "ProxyRequest",
    "ProxyRequestHeaders",
    "Readiness",
    "RequestLogEntry",
    "RequestLogList",
    "Scope",
    "SignedJWT",
    "SignedJWTAlgorithm",
    "SignedJWTClaims",
    "SignedJWTType",
    "UsageBucket",
    "Version",
    "VersionList",
    "VersionSecretHints",
    "Webhook",
    "WebhookCreate",
    "WebhookDelivery",
    "WebhookDeliveryList",
    "WebhookDeliveryStatus",
    "WebhookEventType",
    "WebhookList",
    "WebhookPayload",
    "WebhookPayloadData",
    "WebhookUpdate",
    "WebhookWithSecret",
)
