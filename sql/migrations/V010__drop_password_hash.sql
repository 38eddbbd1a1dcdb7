-- V010: the authn provider reads a user's hash through interactions.credential(), which also
-- answers the credential version and refuses disabled users; password_hash() would hand out
-- the same hash without those checks, so it goes.
DROP FUNCTION IF EXISTS interactions.password_hash(integer, text);
