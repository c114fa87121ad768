-- The resolver's assurance functions inline (issue 7 and issue 8's session
-- validation budget). private.me_pending() calls private.assurance_bar and
-- private.meets_bar up to three times for a session; as SQL functions with
-- a pinned search_path the planner never inlines them, so each call ran
-- the SQL-function executor. Measured on the development VM (3,000 calls
-- of me_pending() in a loop, interleaved, three rounds): 1.3-3.8x faster
-- without the pin, the resolution's largest single cost.
--
-- Same bodies, same results. Neither is SECURITY DEFINER and both use only
-- pg_catalog operators and constructs: inlined into me_pending() they are
-- parsed under its empty search_path, and called directly they can reach
-- nothing but pg_catalog's operators (which every search_path searches
-- first unless told otherwise; pg_temp is never searched for operators).

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function private.assurance_bar(p_role text, p_require_mfa boolean, p_require_passkey boolean)
returns text
language sql immutable as $$
  select case when p_require_passkey then 'passkey'
              when p_require_mfa or p_role in ('admin', 'lead') then 'mfa' end
$$;

create or replace function private.meets_bar(p_bar text, p_aal int, p_amr text[]) returns boolean
language sql immutable as $$
  select case p_bar when 'passkey' then p_aal >= 2 and p_amr @> array['passkey']
                    when 'mfa' then p_aal >= 2
                    else true end
$$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
