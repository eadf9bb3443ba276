DROP TABLE keyring;
DELETE FROM audit_events WHERE action IN ('keyring.rotate', 'keyring.rewrap', 'keyring.migrate');
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (
    action IN (
        'credential.create', 'credential.update', 'credential.delete', 'credential.use',
        'access_key.create', 'access_key.revoke', 'authentication.failure',
        'grant.create', 'grant.revoke',
        'connection.connect', 'connection.lost', 'connection.revoke'
    )
);
