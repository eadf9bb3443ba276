UPDATE access_keys
SET scopes = (
    SELECT json_group_array(value) FROM json_each(access_keys.scopes)
    WHERE value <> 'credentials:route'
);
ALTER TABLE credentials DROP COLUMN restore_floor;
