DROP TABLE vault_meta;
DROP TABLE access_keys;
DROP TABLE credentials;
DROP TABLE organizations;
