-- Stored interior nodes of each org's Merkle tree, so a proof reads a few
-- dozen hashes instead of every leaf of the log (issue 7, "at scale").
--
-- Until now a proof (GET /v1/audit/proof/*, the proofs in a patient's
-- access report) read all leaf hashes of the org up to the checkpoint and
-- rehashed them: linear in the log's size. The integrator now also keeps
-- the root of every complete subtree whose level is a multiple of 4
-- (subtrees of 16, 256, 4096 … leaves): about one row per 15 events. Any
-- subtree root a proof needs is then folded from at most 8 stored hashes
-- (leaves for levels below 4), so a proof costs O(log n) small reads.
--
-- The nodes are derived data: a wrong node only makes a proof fail to
-- verify against the signed checkpoint (the client sees it), never makes a
-- false proof verify. ward audit verify recomputes everything from the
-- events and does not read them. Only audit.integrate writes them (as
-- ward_definer); members read them through audit.proof_hashes, which, like
-- audit.leaf_hashes, serves the caller's own org only.

-- +goose Up
set local role ward_owner;

create table audit.tree_nodes (
  org_id uuid not null,
  level smallint not null check (level > 0 and level % 4 = 0 and level < 64),
  idx bigint not null check (idx >= 0),
  hash bytea not null check (octet_length(hash) = 32),
  primary key (org_id, level, idx)
);
alter table audit.tree_nodes enable row level security;
alter table audit.tree_nodes force row level security;
-- No policy: nobody without BYPASSRLS reads or writes a row directly.
grant select, insert, update on audit.tree_nodes to ward_definer;

-- +goose StatementBegin
-- integrate is 00011's, and keeps every complete subtree root at levels
-- 4, 8, 12 … as the compact range merges it.
create or replace function audit.integrate(p_org uuid, p_max int default 10000,
  out tree_size bigint, out sequenced int)
language plpgsql volatile security definer set search_path = '' as $$
declare
  h audit.heads%rowtype;
  r record;
  chain bytea;
  node bytea;
  fr bytea[];
  size bigint;
  lvl int;
  n bigint;
  last timestamptz;
  qids bigint[] := '{}';
  seqs bigint[] := '{}';
  chains bytea[] := '{}';
  nlevels int[] := '{}';
  nidx bigint[] := '{}';
  nhash bytea[] := '{}';
begin
  perform pg_advisory_xact_lock(hashtextextended('ward.audit.integrate.' || p_org::text, 0));
  select * into h from audit.heads where org_id = p_org for update;
  if not found then
    insert into audit.heads (org_id, origin, chain_hash, root_hash)
    values (p_org, audit.origin(p_org), audit.chain_seed(audit.origin(p_org)), pg_catalog.sha256(''::bytea))
    on conflict (org_id) do nothing;
    select * into h from audit.heads where org_id = p_org for update;
  end if;
  chain := h.chain_hash;
  fr := h.frontier;
  n := h.tree_size;
  last := h.last_at;
  for r in select e.qid, e.leaf_hash, e.at from audit.events e
            where e.org_id = p_org and e.seq is null
            order by e.qid
            limit least(greatest(coalesce(p_max, 10000), 1), 10000)
  loop
    chain := pg_catalog.sha256('\x02'::bytea || chain || r.leaf_hash);
    -- Compact-range append: merge the new leaf (index n) with each
    -- complete subtree of equal size (one per trailing 1-bit of n); the
    -- node made at level k is the subtree n >> k of that level.
    node := r.leaf_hash;
    size := n;
    lvl := 0;
    while size & 1 = 1 loop
      node := pg_catalog.sha256('\x01'::bytea || fr[array_length(fr, 1)] || node);
      fr := fr[1:array_length(fr, 1) - 1];
      size := size >> 1;
      lvl := lvl + 1;
      if lvl % 4 = 0 then
        nlevels := nlevels || lvl; nidx := nidx || (n >> lvl); nhash := nhash || node;
      end if;
    end loop;
    fr := fr || node;
    n := n + 1;
    last := greatest(last, r.at);
    qids := qids || r.qid; seqs := seqs || n; chains := chains || chain;
  end loop;
  -- One statement for the batch.
  update audit.events e set seq = u.seq, chain_hash = u.chain
    from unnest(qids, seqs, chains) as u(qid, seq, chain)
   where e.org_id = p_org and e.qid = u.qid;
  -- A node already stored at a position is from a log this one replaced
  -- (a restore, a cut): the integrator's is the current log's.
  insert into audit.tree_nodes (org_id, level, idx, hash)
  select p_org, u.l, u.i, u.h from unnest(nlevels, nidx, nhash) as u(l, i, h)
  on conflict (org_id, level, idx) do update set hash = excluded.hash;
  if n > h.tree_size then
    update audit.heads x
       set tree_size = n, chain_hash = chain, frontier = fr, root_hash = audit.frontier_root(fr), last_at = last
     where x.org_id = p_org;
  end if;
  tree_size := n;
  sequenced := n - h.tree_size;
end $$;

-- proof_hashes returns, to a live member of p_org, the stored hashes a
-- proof against a tree of p_size leaves is folded from: leaves (level 0,
-- index = seq - 1) and stored subtree roots (levels 4, 8 …). A node must
-- lie within the first p_size leaves; others are not returned. At most
-- 4096 per call.
create function audit.proof_hashes(p_org uuid, p_size bigint, p_levels int[], p_idx bigint[])
returns table (level int, idx bigint, hash bytea)
language plpgsql stable security definer set search_path = '' as $$
begin
  if private.get_my_org_id() is distinct from p_org then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if p_size is null or p_size < 1 or p_levels is null or p_idx is null
     or cardinality(p_levels) <> cardinality(p_idx) or cardinality(p_levels) > 4096
     or exists (select from unnest(p_levels, p_idx) u(l, i) where l is null or i is null or l < 0 or l > 62 or i < 0
                  or (l > 0 and l % 4 <> 0)) then
    raise exception 'proof_hashes: levels 0, 4, 8 … and indexes of equal number (at most 4096)' using errcode = '22023';
  end if;
  -- One index probe per requested hash (a lateral lookup, so the planner
  -- never scans the org's events to join them).
  return query
    select u.l, u.i, x.h
      from unnest(p_levels, p_idx) as u(l, i)
      cross join lateral (
        select e.leaf_hash from audit.events e where u.l = 0 and e.org_id = p_org and e.seq = u.i + 1
        union all
        select t.hash from audit.tree_nodes t where u.l > 0 and t.org_id = p_org and t.level = u.l and t.idx = u.i
      ) as x(h)
     where u.i < (p_size >> u.l);
end $$;
-- +goose StatementEnd
alter function audit.proof_hashes(uuid, bigint, int[], bigint[]) owner to ward_definer;
revoke all on function audit.proof_hashes(uuid, bigint, int[], bigint[]) from public;
grant execute on function audit.proof_hashes(uuid, bigint, int[], bigint[]) to ward_app;

reset role;

-- The logs that exist: their stored nodes, from their integrated events
-- (once; a large log takes a while here). As the migration's login (which
-- reads every org's events); a log pruned past retention (its first event
-- is gone) gets nodes for what it integrates from now on, and its proofs
-- fall back to reading the leaves.
-- +goose StatementBegin
do $$
declare
  o uuid;
  r record;
  fr bytea[];
  node bytea;
  size bigint;
  lvl int;
  n bigint;
begin
  for o in select x.org_id from audit.heads x where x.tree_size > 0
              and (select count(*) from audit.events e where e.org_id = x.org_id and e.seq between 1 and x.tree_size)
                  = x.tree_size loop
    fr := '{}';
    n := 0;
    for r in select e.leaf_hash from audit.events e where e.org_id = o and e.seq is not null order by e.seq loop
      node := r.leaf_hash;
      size := n;
      lvl := 0;
      while size & 1 = 1 loop
        node := pg_catalog.sha256('\x01'::bytea || fr[array_length(fr, 1)] || node);
        fr := fr[1:array_length(fr, 1) - 1];
        size := size >> 1;
        lvl := lvl + 1;
        if lvl % 4 = 0 then
          insert into audit.tree_nodes (org_id, level, idx, hash) values (o, lvl, n >> lvl, node)
          on conflict do nothing;
        end if;
      end loop;
      fr := fr || node;
      n := n + 1;
    end loop;
  end loop;
end $$;
-- +goose StatementEnd

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
