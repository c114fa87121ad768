-- audit.append, cheaper per event (issue 7): the same bytes, fewer
-- executor calls. Measured per call on the development VM:
--
--   * canonical_event_v2 spent ~100 µs per event: its one expression held
--     a subquery (string_agg over unnest(p_results)), so PL/pgSQL ran it as
--     a full query through SPI every time. The result ids are now joined by
--     array_to_string, which keeps the expression simple (~15 µs). Both
--     skip NULL elements and keep array order, so the bytes are the same
--     (TestCanonicalEventV2MatchesJCS compares them with the generic JCS
--     rendering, results included).
--   * clean_text (three calls per event) was a SQL function with a pinned
--     search_path, which the planner never inlines: ~17 µs a call against
--     ~3 µs inlined. It is not SECURITY DEFINER and calls only pg_catalog
--     functions (which every search_path reaches first), so the pin bought
--     nothing; without it the body is inlined into its callers.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function audit.clean_text(p text, p_max int) returns text
language sql immutable as $$
  select nullif(left(pg_catalog.regexp_replace(p, '[\x01-\x1f\x7f]', '', 'g'), p_max), '')
$$;

create or replace function audit.canonical_event_v2(
  p_org uuid, p_at timestamptz, p_action text, p_outcome text, p_actor uuid, p_actor_kind text,
  p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[],
  p_request text, p_ip text, p_ua text, p_details jsonb, p_credential_kind text, p_credential uuid,
  p_device text, p_case uuid, p_disclosure jsonb, p_break_glass boolean) returns text
language plpgsql immutable set search_path = '' as $$
begin
  return '{"action":' || coalesce(to_json(p_action)::text, 'null')
    || ',"actor":' || coalesce('"' || p_actor::text || '"', 'null')
    || ',"actor_kind":' || coalesce(to_json(p_actor_kind)::text, 'null')
    || ',"at":"' || to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"'
    || ',"break_glass":' || case when p_break_glass then 'true' else 'false' end
    || ',"case":' || coalesce('"' || p_case::text || '"', 'null')
    || ',"credential":' || coalesce('"' || p_credential::text || '"', 'null')
    || ',"credential_kind":' || coalesce(to_json(p_credential_kind)::text, 'null')
    || ',"details":' || case when p_details is null or p_details = '{}'::jsonb then '{}' else audit.jcs(p_details) end
    || ',"device":' || coalesce(to_json(p_device)::text, 'null')
    || ',"disclosure":' || case when p_disclosure is null then 'null' else audit.jcs(p_disclosure) end
    || ',"ip":' || coalesce(to_json(p_ip)::text, 'null')
    || ',"object_id":' || coalesce('"' || p_object_id::text || '"', 'null')
    || ',"object_type":' || coalesce(to_json(p_object_type)::text, 'null')
    || ',"org":' || coalesce('"' || p_org::text || '"', 'null')
    || ',"outcome":' || coalesce(to_json(p_outcome)::text, 'null')
    || ',"patient":' || coalesce('"' || p_patient::text || '"', 'null')
    || ',"request":' || coalesce(to_json(p_request)::text, 'null')
    -- A UUID's text is never empty, so '' means no (non-NULL) element.
    || ',"results":[' || coalesce('"' || nullif(array_to_string(p_results, '","'), '') || '"', '') || ']'
    || ',"session":' || coalesce('"' || p_session::text || '"', 'null')
    || ',"ua":' || coalesce(to_json(p_ua)::text, 'null')
    || ',"v":2}';
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
