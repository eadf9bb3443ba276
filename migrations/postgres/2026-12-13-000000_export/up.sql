-- The audit log names two more actions: a credential leaving in an export bundle, and one
-- created from an import. Adding the check scans the existing rows once (all pass: the
-- list only grew), under the migration's lock.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (
    action IN (
        'credential.create', 'credential.update', 'credential.delete', 'credential.use',
        'access_key.create', 'access_key.revoke', 'authentication.failure',
        'grant.create', 'grant.revoke',
        'connection.connect', 'connection.lost', 'connection.revoke',
        'keyring.rotate', 'keyring.rewrap', 'keyring.migrate',
        'webhook.create', 'webhook.update', 'webhook.delete', 'webhook.replay',
        'credential.export', 'credential.import'
    )
);
