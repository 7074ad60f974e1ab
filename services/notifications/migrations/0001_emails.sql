-- Mentee contact details, built from ProfileUpdated (newest version wins).
CREATE TABLE contacts (
    tenant_id    text     NOT NULL,
    user_id      text     NOT NULL,
    version      integer  NOT NULL,
    email        text,
    display_name text     NOT NULL,
    email_opt_in boolean  NOT NULL,
    timezone     text     NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);

-- One row per proposal email: the intent, then the outcome. dedupe_key makes a proposal
-- emailed at most once per mentee; message_id is reused on every attempt.
CREATE TABLE emails (
    id              bigserial   PRIMARY KEY,
    dedupe_key      text        NOT NULL UNIQUE,
    tenant_id       text        NOT NULL,
    mentee_id       text        NOT NULL,
    proposal_id     uuid        NOT NULL,
    message_id      text        NOT NULL,
    proposal        jsonb       NOT NULL,
    correlation_id  text,
    state           text        NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'suppressed')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until     timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX emails_due ON emails (next_attempt_at) WHERE state IN ('queued', 'sending');
CREATE INDEX emails_mentee ON emails (tenant_id, mentee_id);
