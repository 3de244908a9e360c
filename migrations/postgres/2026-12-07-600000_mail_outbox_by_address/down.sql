DROP INDEX mail_outbox_to;
