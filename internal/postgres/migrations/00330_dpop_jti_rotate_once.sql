-- The DPoP jti ring is truncated once a slot, also when two nodes' jobs
-- run at the same moment (a clean-clone CI run: TestDPoPJTIRotationJobNodes,
-- "2 of the two nodes truncated"). private.dpop_jti_rotate_at (00227,
-- 00236) read app.dpop_jti_cleared before it took the ring's lock: a node
-- that read it before the other's setval and asked for the lock after the
-- other's commit released it truncated the ring a second time. Harmless
-- (the ring then holds no proof still inside its window), but not the once
-- a slot the schedule promises. The sequence is read again once the lock
-- is held: setval is not transactional, so the other node's is seen.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function private.dpop_jti_rotate_at(p_now bigint) returns boolean
language plpgsql
set search_path to ''
as $$
declare
  slot bigint := p_now / 600;
begin
  if p_now is null or p_now % 600 >= 120 or (select c.last_value from app.dpop_jti_cleared c) >= slot then
    return false;
  end if;
  begin
    case (slot + 1) % 3
      when 0 then
        lock table app.dpop_jtis_0 in access exclusive mode nowait;
      when 1 then
        lock table app.dpop_jtis_1 in access exclusive mode nowait;
      else
        lock table app.dpop_jtis_2 in access exclusive mode nowait;
    end case;
    -- Another node may have cleared it and committed since the read above.
    if (select c.last_value from app.dpop_jti_cleared c) >= slot then
      return false;
    end if;
    case (slot + 1) % 3
      when 0 then truncate app.dpop_jtis_0;
      when 1 then truncate app.dpop_jtis_1;
      else truncate app.dpop_jtis_2;
    end case;
    perform setval('app.dpop_jti_cleared', slot);
  exception when lock_not_available then
    return false; -- a later call clears it
  end;
  return true;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
