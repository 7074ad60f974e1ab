CREATE TABLE profiles (
    tenant_id   text        NOT NULL,
    user_id     text        NOT NULL,
    version     integer     NOT NULL,
    profile     jsonb       NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);

CREATE TABLE goals (
    tenant_id   text        NOT NULL,
    mentee_id   text        NOT NULL,
    version     integer     NOT NULL,
    goal        jsonb       NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, mentee_id)
);

CREATE TABLE api_keys (
    key_id      text        PRIMARY KEY,
    tenant_id   text        NOT NULL,
    secret_hash bytea       NOT NULL,
    label       text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);
