"""The statement that keeps contacts current (migrations 0001, 0002)."""

# A poll's contacts, at most one per person, each stored unless its version or a newer one is
# stored already. The opt-out time is kept across updates that stay opted out.
SAVE_CONTACTS = """
INSERT INTO contacts AS c (tenant_id, user_id, version, email, display_name, email_opt_in,
                           timezone, quiet_hours_start, quiet_hours_end, opted_out_at)
SELECT t, u, v, e, n, o, z, qs, qe, CASE WHEN o THEN NULL ELSE now() END
  FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::bool[],
              $7::text[], $8::time[], $9::time[]) AS new (t, u, v, e, n, o, z, qs, qe)
ON CONFLICT (tenant_id, user_id) DO UPDATE SET version = EXCLUDED.version,
       email = EXCLUDED.email, display_name = EXCLUDED.display_name,
       email_opt_in = EXCLUDED.email_opt_in, timezone = EXCLUDED.timezone,
       quiet_hours_start = EXCLUDED.quiet_hours_start, quiet_hours_end = EXCLUDED.quiet_hours_end,
       opted_out_at = CASE WHEN EXCLUDED.email_opt_in THEN NULL
                      ELSE coalesce(c.opted_out_at, now()) END
 WHERE c.version < EXCLUDED.version
"""
