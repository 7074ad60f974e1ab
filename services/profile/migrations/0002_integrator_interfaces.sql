-- Integrator interfaces: key rotation, listing filters, sticky unsubscribe, idempotent writes,
-- one effect per email-link answer.
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;

-- Set when the person unsubscribes through an email link; an integrator update cannot clear it.
ALTER TABLE profiles ADD COLUMN unsubscribed_at timestamptz;
CREATE INDEX profiles_document ON profiles USING gin (profile jsonb_path_ops);
CREATE INDEX profiles_manager ON profiles (tenant_id, (profile ->> 'manager_id'))
    WHERE profile ->> 'manager_id' IS NOT NULL;

-- Idempotency-Key records: claimed and answered in the transaction that makes the change.
-- user_id lets an erasure delete the records (their bodies hold the person's data).
CREATE TABLE idempotency_keys (
    tenant_id        text        NOT NULL,
    idempotency_key  text        NOT NULL,
    user_id          text        NOT NULL,
    fingerprint      bytea       NOT NULL,
    status           integer,
    body             text,
    etag             text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, idempotency_key)
);
CREATE INDEX idempotency_keys_user ON idempotency_keys (tenant_id, user_id);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- Accept / decline answers from proposal emails: a repeated click publishes nothing new.
CREATE TABLE link_responses (
    tenant_id    text        NOT NULL,
    proposal_id  uuid        NOT NULL,
    mentor_id    text        NOT NULL,
    action       text        NOT NULL,
    mentee_id    text        NOT NULL,
    responded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, proposal_id, mentor_id, action)
);
CREATE INDEX link_responses_mentee ON link_responses (tenant_id, mentee_id);
CREATE INDEX link_responses_mentor ON link_responses (tenant_id, mentor_id);
