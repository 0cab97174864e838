-- 0015: changes to accounts, grants and API tokens are announced on gridline_changes (with the
-- table's name, as grids and staff are since 0003), so that every server drops the principals
-- its token cache remembers as soon as another process (the command line, another server)
-- disables an account, revokes a token or changes a grant (accounts.Service.Forget).
CREATE TRIGGER accounts_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION gridline_notify_change();
CREATE TRIGGER grants_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON grants
    FOR EACH STATEMENT EXECUTE FUNCTION gridline_notify_change();
CREATE TRIGGER api_tokens_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION gridline_notify_change();
