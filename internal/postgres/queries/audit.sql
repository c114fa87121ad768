-- The audit log (internal/audit). Every query of one org's log filters on
-- org_id; RLS decides what the transaction's credential sees.

-- name: ListEvents :many
select seq::bigint as seq, at, action, outcome, actor_id, actor_kind, session_id, object_type, object_id,
  patient_id, array_remove(result_ids, null)::uuid[] as result_ids, request_id, ip, user_agent, details,
  credential_kind, credential_id, device, case_id, disclosure, break_glass
from audit.log
where org_id = @org_id and seq > @after::bigint
  and (sqlc.narg('action')::text is null or action = sqlc.narg('action'))
  and (sqlc.narg('patient')::uuid is null or patient_id = sqlc.narg('patient')
       or result_ids @> array[sqlc.narg('patient')::uuid])
order by seq
limit @max_rows;

-- name: GetHead :one
select origin, tree_size, chain_hash, frontier, root_hash
from audit.heads
where org_id = @org_id;

-- name: ListLogOrgs :many
select org_id from audit.heads
union
select distinct org_id from audit.events;

-- name: AppendEvent :one
select audit.append(p_org => @org_id, p_action => @action, p_outcome => @outcome,
  p_object_type => sqlc.narg('object_type')::text, p_object_id => sqlc.narg('object_id')::uuid,
  p_patient => sqlc.narg('patient_id')::uuid, p_results => @results::uuid[], p_request => sqlc.narg('request')::text,
  p_ip => sqlc.narg('ip')::text, p_ua => sqlc.narg('ua')::text, p_details => @details::jsonb,
  p_disclosure => sqlc.narg('disclosure')::jsonb, p_case => sqlc.narg('case_id')::uuid) as qid;

-- name: AppendEventAs :one
select audit.append_as(p_org => @org_id, p_action => @action, p_outcome => @outcome,
  p_object_type => sqlc.narg('object_type')::text, p_object_id => sqlc.narg('object_id')::uuid,
  p_patient => sqlc.narg('patient_id')::uuid, p_results => @results::uuid[], p_request => sqlc.narg('request')::text,
  p_ip => sqlc.narg('ip')::text, p_ua => sqlc.narg('ua')::text, p_details => @details::jsonb,
  p_disclosure => sqlc.narg('disclosure')::jsonb, p_actor => sqlc.narg('actor_id')::uuid,
  p_case => sqlc.narg('case_id')::uuid) as qid;


-- name: Integrate :one
select tree_size, sequenced from audit.integrate(@org_id, @max::int);
