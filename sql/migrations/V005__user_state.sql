-- V005: whether a user may still act, and which version of their credentials is current.
--
-- A user is never deleted (the history names them); disabling keeps the row and refuses the
-- user everywhere: authentication, every API call and every push delivery.  The credential
-- version moves on every password change, role change and disablement, so whatever a server
-- keeps about a user (a cached verified password, a rendered push message) can be held
-- against the current version and dropped the moment it differs.
ALTER TABLE interactions.users
    ADD COLUMN disabled boolean NOT NULL DEFAULT false,
    ADD COLUMN credential_version integer NOT NULL DEFAULT 1;
COMMENT ON COLUMN interactions.users.disabled IS
  'A disabled user is refused by authentication, by every API call and by every push delivery; the row stays for the history.';
COMMENT ON COLUMN interactions.users.credential_version IS
  'Moves on every password, role or disablement change: a server holding anything about this user compares it and drops what is older.';
