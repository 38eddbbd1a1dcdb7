-- Privileges of the account functions (025_user_admin.sql), applied after 900_security.sql,
-- which grants the module's role EXECUTE on every function of the schema: changing accounts
-- is the DBAs' business, not the module's.  The module keeps credential() and
-- credential_version(), which its authn provider calls.
REVOKE EXECUTE ON FUNCTION
    interactions.new_password_hash(text),
    interactions.user_for_change(text, text),
    interactions.set_user_password(text, text, text),
    interactions.set_user_roles(text, text, text[]),
    interactions.disable_user(text, text),
    interactions.enable_user(text, text)
  FROM interactions_app;
