DROP TABLE sso_settings;
DROP TABLE mail_outbox;
DROP TABLE invitations;
