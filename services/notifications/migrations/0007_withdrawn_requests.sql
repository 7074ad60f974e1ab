-- A relationship that ends before it started is a request withdrawn (the mentee said "Not for
-- me" to the mentor they had asked, or was erased while it waited): the mentor is told that,
-- not that a relationship ended. `started` records that MatchStarted was seen.
ALTER TABLE relationship_versions ADD COLUMN started boolean NOT NULL DEFAULT false;
ALTER TABLE emails DROP CONSTRAINT emails_kind_check;
ALTER TABLE emails ADD CONSTRAINT emails_kind_check
    CHECK (kind IN ('proposal', 'mentor_request', 'request_reminder', 'request_withdrawn',
                    'introduction', 'fit_check', 'relationship_ended'));
