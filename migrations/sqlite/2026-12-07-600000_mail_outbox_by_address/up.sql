-- Sign-in link requests count the recent mails to one address (a throttle against mail
-- bombing), and support reads an address's mails: both by organization and address.
CREATE INDEX mail_outbox_to ON mail_outbox (org_id, to_addr, created_at);
