-- Risk-based step-up (internal/auth/risk.go, migration 00061).

-- name: GetRiskPolicy :one
select risk_threshold from app.orgs where id = @org_id;

-- name: SetRiskPolicy :exec
select app.set_risk_policy(sqlc.narg('threshold')::int, sqlc.narg('request')::text);
