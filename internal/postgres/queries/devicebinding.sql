-- Device binding required by role (internal/auth/devicebinding.go,
-- migration 00062).

-- name: GetDeviceBindingPolicy :one
select device_binding_required_for from app.orgs where id = @org_id;

-- name: SetDeviceBindingPolicy :exec
select app.set_device_binding_policy(@roles::text[], sqlc.narg('request')::text);
