-- @gatewayz/telemetry-supabase: model health tracking (seed 003).
--
-- One row per (provider, model) with exact call counts, a call-weighted mean response time and the
-- most recent call's status. Written by the write-behind recorder through record_model_calls(), one
-- call per flush; read through the get_* functions or the table itself (RLS read policy).
--
-- Plain PostgreSQL 15. Safe to run more than once: tables and indexes are created if missing,
-- functions are replaced, policies and grants are re-applied. Apply it in one transaction:
--   psql "$DATABASE_URL" --single-transaction -v ON_ERROR_STOP=1 -f 0001_model_health_tracking.sql
-- or copy it into supabase/migrations/ and run `supabase db push`.

-- ---------------------------------------------------------------------------------------------
-- Roles. Supabase has them already; a bare PostgreSQL (tests, self-hosted PostgREST) gets them here.
-- ---------------------------------------------------------------------------------------------
do $roles$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit;
  end if;
end
$roles$;

-- ---------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------
create table if not exists public.model_health_tracking (
  provider text not null,
  model text not null,
  call_count bigint not null default 0,
  success_count bigint not null default 0,
  error_count bigint not null default 0,
  last_response_time_ms double precision,
  avg_response_time_ms double precision,
  last_status text not null,
  last_error_message text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_called_at timestamptz not null,
  constraint model_health_tracking_pkey primary key (provider, model),
  constraint model_health_tracking_names_check check (provider <> '' and model <> ''),
  constraint model_health_tracking_last_status_check
    check (last_status in ('success', 'error', 'timeout', 'rate_limited', 'network_error')),
  constraint model_health_tracking_last_error_message_check
    check (char_length(last_error_message) <= 500),
  constraint model_health_tracking_counts_check
    check (call_count >= 0 and success_count >= 0 and error_count >= 0
           and success_count + error_count = call_count),
  constraint model_health_tracking_response_times_check
    check (last_response_time_ms >= 0 and avg_response_time_ms >= 0)
);

comment on table public.model_health_tracking is
  'Per (provider, model) call health: exact counts, call-weighted mean response time, most recent status. Written by record_model_calls().';
comment on column public.model_health_tracking.last_error_message is
  'Message of the most recent failed call, at most 500 characters.';
comment on column public.model_health_tracking.last_called_at is
  'When the most recent recorded call finished; the last_* columns describe that call.';

create index if not exists idx_model_health_last_called_at
  on public.model_health_tracking (last_called_at desc);
create index if not exists idx_model_health_last_status
  on public.model_health_tracking (last_status);
create index if not exists idx_model_health_provider
  on public.model_health_tracking (provider);

-- Batch ids already applied by record_model_calls(): a retried flush is applied at most once.
create table if not exists public.model_health_applied_batches (
  batch_id uuid primary key,
  applied_at timestamptz not null default now()
);

comment on table public.model_health_applied_batches is
  'Ids of batches applied by record_model_calls(), so a retried flush counts once. Pruned by delete_old_health_records().';

create index if not exists idx_model_health_applied_batches_applied_at
  on public.model_health_applied_batches (applied_at);

-- updated_at follows every change, including hand edits made outside record_model_calls().
create or replace function public.model_health_tracking_set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

create or replace trigger model_health_tracking_set_updated_at
  before update on public.model_health_tracking
  for each row execute function public.model_health_tracking_set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- Writes
-- ---------------------------------------------------------------------------------------------

-- Fold the entries of one batch per (provider, model), as if applied one after the other: counts
-- and response-time totals add up; last_* come from the last entry that is not older than every
-- earlier entry for the same model; the error message from the last such entry that has one
-- (last_error_called_at is that entry's time). Internal helper of record_model_calls().
create or replace function public.model_health_fold_entries(p_entries jsonb)
returns table (
  provider text,
  model text,
  calls bigint,
  successes bigint,
  errors bigint,
  total_response_time_ms double precision,
  last_response_time_ms double precision,
  last_status text,
  last_error_message text,
  last_called_at timestamptz,
  last_error_called_at timestamptz)
language sql
stable
set search_path = ''
as $$
  with entry as (
    select e.ord, e.provider, e.model, e.calls, e.successes, e.errors, e.total_response_time_ms,
           e.last_response_time_ms, e.last_status, left(e.last_error_message, 500) as last_error_message,
           e.last_called_at
    from rows from (
      jsonb_to_recordset(p_entries) as (
        provider text, model text, calls bigint, successes bigint, errors bigint,
        total_response_time_ms double precision, last_response_time_ms double precision,
        last_status text, last_error_message text, last_called_at timestamptz)
    ) with ordinality as e(provider, model, calls, successes, errors, total_response_time_ms,
                           last_response_time_ms, last_status, last_error_message, last_called_at, ord)
  ),
  sequenced as (
    select entry.*,
           entry.last_called_at >= coalesce(
             max(entry.last_called_at) over (partition by entry.provider, entry.model order by entry.ord
                                             rows between unbounded preceding and 1 preceding),
             '-infinity'::timestamptz) as takes_over
    from entry
  )
  select s.provider, s.model,
         sum(s.calls)::bigint,
         sum(s.successes)::bigint,
         sum(s.errors)::bigint,
         sum(s.total_response_time_ms),
         (array_agg(s.last_response_time_ms order by s.ord desc) filter (where s.takes_over))[1],
         (array_agg(s.last_status order by s.ord desc) filter (where s.takes_over))[1],
         (array_agg(s.last_error_message order by s.ord desc)
            filter (where s.takes_over and s.last_error_message is not null))[1],
         max(s.last_called_at),
         (array_agg(s.last_called_at order by s.ord desc)
            filter (where s.takes_over and s.last_error_message is not null))[1]
  from sequenced s
  group by s.provider, s.model
$$;

-- Apply one flush of the write-behind recorder atomically and at most once per batch id.
--
-- p_entries is a JSON array of
--   { "provider": text, "model": text, "calls": int >= 1, "successes": int, "errors": int,
--     "total_response_time_ms": number, "last_response_time_ms": number,
--     "last_status": "success"|"error"|"timeout"|"rate_limited"|"network_error",
--     "last_error_message": text|null, "last_called_at": ISO-8601 timestamp }
-- Entries are applied as if one after the other: counts add up, the mean response time is
-- re-weighted, and the last_* columns are replaced by an entry whose last_called_at is not older
-- than the stored one (its error message only when it has one). Several entries may name the same
-- (provider, model). Error messages are cut to 500 characters.
--
-- Returns the number of (provider, model) rows written, or 0 when the batch id was applied before.
--
-- Concurrency: the batch id's primary key serialises two deliveries of the same batch (the second
-- waits for the first to commit, then skips). Rows are upserted in one INSERT ... ON CONFLICT DO
-- UPDATE that locks each row before adding to it, so concurrent flushes from several gateway
-- replicas never lose counts; rows are locked in (provider, model) byte order, so two flushes
-- touching the same models cannot deadlock.
create or replace function public.record_model_calls(p_batch_id uuid, p_entries jsonb)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_problem text;
  v_earlier_message_times jsonb;
  v_written integer;
begin
  if p_batch_id is null then
    raise exception 'record_model_calls: p_batch_id must not be null' using errcode = '22023';
  end if;
  if p_entries is null or jsonb_typeof(p_entries) <> 'array' then
    raise exception 'record_model_calls: p_entries must be a JSON array of entries' using errcode = '22023';
  end if;

  -- Reject the whole batch, naming the first bad entry, before anything is written.
  select format('entry %s (%s/%s) %s', e.ord, e.value ->> 'provider', e.value ->> 'model', e.problem)
  into v_problem
  from (
    select x.ord, x.value,
      case
        when jsonb_typeof(x.value) <> 'object' then 'is not an object'
        when jsonb_typeof(x.value -> 'provider') is distinct from 'string' or x.value ->> 'provider' = ''
          or jsonb_typeof(x.value -> 'model') is distinct from 'string' or x.value ->> 'model' = ''
          then 'needs non-empty strings in "provider" and "model"'
        when jsonb_typeof(x.value -> 'calls') is distinct from 'number'
          or jsonb_typeof(x.value -> 'successes') is distinct from 'number'
          or jsonb_typeof(x.value -> 'errors') is distinct from 'number'
          then 'needs numbers in "calls", "successes" and "errors"'
        when (x.value ->> 'calls')::numeric < 1
          or (x.value ->> 'successes')::numeric < 0
          or (x.value ->> 'errors')::numeric < 0
          or (x.value ->> 'calls')::numeric <> trunc((x.value ->> 'calls')::numeric)
          or (x.value ->> 'successes')::numeric <> trunc((x.value ->> 'successes')::numeric)
          or (x.value ->> 'errors')::numeric <> trunc((x.value ->> 'errors')::numeric)
          or (x.value ->> 'successes')::numeric + (x.value ->> 'errors')::numeric <> (x.value ->> 'calls')::numeric
          then format('needs integers calls >= 1 = successes + errors, got calls=%s, successes=%s, errors=%s',
                      x.value -> 'calls', x.value -> 'successes', x.value -> 'errors')
        when jsonb_typeof(x.value -> 'total_response_time_ms') is distinct from 'number'
          or jsonb_typeof(x.value -> 'last_response_time_ms') is distinct from 'number'
          then 'needs numbers in "total_response_time_ms" and "last_response_time_ms"'
        when (x.value ->> 'total_response_time_ms')::numeric < 0
          or (x.value ->> 'last_response_time_ms')::numeric < 0
          then 'needs numbers >= 0 in "total_response_time_ms" and "last_response_time_ms"'
        when (x.value ->> 'last_status') is null
          or (x.value ->> 'last_status') not in ('success', 'error', 'timeout', 'rate_limited', 'network_error')
          then format('has unknown last_status %s; expected success, error, timeout, rate_limited or network_error',
                      coalesce(x.value -> 'last_status', 'null'::jsonb))
        when jsonb_typeof(x.value -> 'last_called_at') is distinct from 'string'
          then 'needs an ISO-8601 timestamp string in "last_called_at"'
        when coalesce(jsonb_typeof(x.value -> 'last_error_message'), 'null') not in ('null', 'string')
          then 'needs a string or null in "last_error_message"'
      end as problem
    from jsonb_array_elements(p_entries) with ordinality as x(value, ord)
  ) e
  where e.problem is not null
  order by e.ord
  limit 1;
  if v_problem is not null then
    raise exception 'record_model_calls: %', v_problem using errcode = '22023';
  end if;

  insert into public.model_health_applied_batches (batch_id) values (p_batch_id)
  on conflict (batch_id) do nothing;
  if not found then
    return 0;
  end if;

  -- Only when a batch names a model more than once can its error message come from an earlier
  -- call than its newest one; keep those messages' own times for the comparison below.
  select coalesce(jsonb_object_agg(jsonb_build_array(f.provider, f.model)::text, f.last_error_called_at), '{}'::jsonb)
  into v_earlier_message_times
  from public.model_health_fold_entries(p_entries) f
  where f.last_error_called_at < f.last_called_at;

  insert into public.model_health_tracking as t (
    provider, model, call_count, success_count, error_count, last_response_time_ms,
    avg_response_time_ms, last_status, last_error_message, last_called_at)
  select f.provider, f.model, f.calls, f.successes, f.errors, f.last_response_time_ms,
         f.total_response_time_ms / f.calls, f.last_status, f.last_error_message, f.last_called_at
  from public.model_health_fold_entries(p_entries) f
  order by f.provider collate "C", f.model collate "C"
  on conflict (provider, model) do update set
    call_count = t.call_count + excluded.call_count,
    success_count = t.success_count + excluded.success_count,
    error_count = t.error_count + excluded.error_count,
    avg_response_time_ms =
      (coalesce(t.avg_response_time_ms, 0) * t.call_count + excluded.avg_response_time_ms * excluded.call_count)
      / (t.call_count + excluded.call_count),
    last_response_time_ms = case when excluded.last_called_at >= t.last_called_at
                                 then excluded.last_response_time_ms else t.last_response_time_ms end,
    last_status = case when excluded.last_called_at >= t.last_called_at
                       then excluded.last_status else t.last_status end,
    last_error_message = case
      when excluded.last_error_message is not null
       and coalesce((v_earlier_message_times ->> jsonb_build_array(excluded.provider, excluded.model)::text)::timestamptz,
                    excluded.last_called_at) >= t.last_called_at
        then excluded.last_error_message
      else t.last_error_message
    end,
    last_called_at = greatest(t.last_called_at, excluded.last_called_at),
    updated_at = now();

  get diagnostics v_written = row_count;
  return v_written;
end
$$;

comment on function public.record_model_calls(uuid, jsonb) is
  'Apply one write-behind flush atomically and at most once per batch id; returns rows written (0 for a repeated batch id).';

-- ---------------------------------------------------------------------------------------------
-- Reads (security invoker: the caller's RLS policies apply)
-- ---------------------------------------------------------------------------------------------

-- The record of one (provider, model); no row when it is not tracked.
create or replace function public.get_model_health(p_provider text, p_model text)
returns setof public.model_health_tracking
language sql
stable
set search_path = ''
as $$
  select t.* from public.model_health_tracking t
  where t.provider = p_provider and t.model = p_model
$$;

-- Earlier versions of this file took p_offset and min_calls as integer (an offset or minimum past
-- 2^31 - 1, which the store accepts, failed with "integer out of range") and had no keyset
-- parameters. Drop those signatures, or PostgREST would find two candidates for one call.
drop function if exists public.get_all_model_health(text, text, integer, integer);
drop function if exists public.get_all_model_health(text, text, integer, bigint);
drop function if exists public.get_unhealthy_models(double precision, integer);

-- One page of records ordered by provider then model (byte order of UTF-8, i.e. code point order),
-- optionally filtered by provider and last status, with the number of matching rows:
--   { "total": 42, "limit": 100, "offset": 0, "items": [ { <model_health_tracking row> }, ... ] }
-- p_limit is 1-1000, or null for every row from p_offset on. With p_after_provider and
-- p_after_model (both or neither), only rows after that key count for p_offset and the page
-- (keyset paging: no row repeated or skipped when others are written between pages); the total
-- ignores them. One JSON value rather than a set of
-- rows, so the total comes with any page (even one past the end) and PostgREST's max-rows cap
-- does not apply.
create or replace function public.get_all_model_health(
  p_provider text default null,
  p_status text default null,
  p_limit integer default 100,
  p_offset bigint default 0,
  p_after_provider text default null,
  p_after_model text default null)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_total bigint;
  v_items jsonb;
begin
  if p_limit < 1 or p_limit > 1000 then
    raise exception 'get_all_model_health: p_limit must be from 1 to 1000 (or null for all rows), got %', p_limit using errcode = '22023';
  end if;
  if p_offset is null or p_offset < 0 then
    raise exception 'get_all_model_health: p_offset must be >= 0, got %', p_offset using errcode = '22023';
  end if;
  if (p_after_provider is null) <> (p_after_model is null) then
    raise exception 'get_all_model_health: give both p_after_provider and p_after_model, or neither' using errcode = '22023';
  end if;
  if p_status is not null and p_status not in ('success', 'error', 'timeout', 'rate_limited', 'network_error') then
    raise exception 'get_all_model_health: unknown p_status %; expected success, error, timeout, rate_limited or network_error', p_status
      using errcode = '22023';
  end if;

  select count(*) into v_total
  from public.model_health_tracking t
  where (p_provider is null or t.provider = p_provider)
    and (p_status is null or t.last_status = p_status);

  select coalesce(jsonb_agg(to_jsonb(page) order by page.provider collate "C", page.model collate "C"), '[]'::jsonb)
  into v_items
  from (
    select t.* from public.model_health_tracking t
    where (p_provider is null or t.provider = p_provider)
      and (p_status is null or t.last_status = p_status)
      and (p_after_provider is null
           or t.provider collate "C" > p_after_provider collate "C"
           or (t.provider collate "C" = p_after_provider collate "C" and t.model collate "C" > p_after_model collate "C"))
    order by t.provider collate "C", t.model collate "C"
    limit p_limit offset p_offset
  ) page;

  return jsonb_build_object('total', v_total, 'limit', p_limit, 'offset', p_offset, 'items', v_items);
end
$$;

-- Models whose error rate (error_count / call_count) is at least error_threshold and that have at
-- least min_calls calls, worst first: error rate, then call count, descending.
create or replace function public.get_unhealthy_models(error_threshold double precision, min_calls bigint default 1)
returns setof public.model_health_tracking
language plpgsql
stable
set search_path = ''
as $$
begin
  if error_threshold is null or error_threshold < 0 or error_threshold > 1 or error_threshold = 'NaN' then
    raise exception 'get_unhealthy_models: error_threshold must be from 0 to 1, got %', error_threshold using errcode = '22023';
  end if;
  if min_calls is null or min_calls < 1 then
    raise exception 'get_unhealthy_models: min_calls must be >= 1, got %', min_calls using errcode = '22023';
  end if;
  return query
    select t.* from public.model_health_tracking t
    where t.call_count >= min_calls
      and t.call_count > 0
      and t.error_count::double precision / t.call_count >= error_threshold
    order by t.error_count::double precision / t.call_count desc, t.call_count desc,
             t.provider collate "C", t.model collate "C";
end
$$;

-- Aggregates over every tracked model; always one row.
create or replace function public.get_model_health_stats()
returns table (
  total_models bigint,
  total_providers bigint,
  total_calls bigint,
  total_successes bigint,
  total_errors bigint,
  success_rate double precision,
  avg_response_time_ms double precision)
language sql
stable
set search_path = ''
as $$
  select count(*),
         count(distinct t.provider),
         coalesce(sum(t.call_count), 0)::bigint,
         coalesce(sum(t.success_count), 0)::bigint,
         coalesce(sum(t.error_count), 0)::bigint,
         coalesce(sum(t.success_count)::double precision / nullif(sum(t.call_count), 0), 0),
         sum(coalesce(t.avg_response_time_ms, 0) * t.call_count) / nullif(sum(t.call_count), 0)::double precision
  from public.model_health_tracking t
$$;

-- Aggregates of one provider's models; no row when the provider has none.
create or replace function public.get_provider_health_summary(p_provider text)
returns table (
  provider text,
  total_models bigint,
  total_calls bigint,
  success_count bigint,
  error_count bigint,
  success_rate double precision,
  error_rate double precision,
  avg_response_time_ms double precision,
  last_called_at timestamptz)
language sql
stable
set search_path = ''
as $$
  select t.provider,
         count(*),
         sum(t.call_count)::bigint,
         sum(t.success_count)::bigint,
         sum(t.error_count)::bigint,
         coalesce(sum(t.success_count)::double precision / nullif(sum(t.call_count), 0), 0),
         coalesce(sum(t.error_count)::double precision / nullif(sum(t.call_count), 0), 0),
         sum(coalesce(t.avg_response_time_ms, 0) * t.call_count) / nullif(sum(t.call_count), 0)::double precision,
         max(t.last_called_at)
  from public.model_health_tracking t
  where t.provider = p_provider
  group by t.provider
$$;

-- Every provider's aggregates, ordered by provider (byte order).
create or replace function public.get_all_provider_health_summaries()
returns table (
  provider text,
  total_models bigint,
  total_calls bigint,
  success_count bigint,
  error_count bigint,
  success_rate double precision,
  error_rate double precision,
  avg_response_time_ms double precision,
  last_called_at timestamptz)
language sql
stable
set search_path = ''
as $$
  select t.provider,
         count(*),
         sum(t.call_count)::bigint,
         sum(t.success_count)::bigint,
         sum(t.error_count)::bigint,
         coalesce(sum(t.success_count)::double precision / nullif(sum(t.call_count), 0), 0),
         coalesce(sum(t.error_count)::double precision / nullif(sum(t.call_count), 0), 0),
         sum(coalesce(t.avg_response_time_ms, 0) * t.call_count) / nullif(sum(t.call_count), 0)::double precision,
         max(t.last_called_at)
  from public.model_health_tracking t
  group by t.provider
  order by t.provider collate "C"
$$;

-- ---------------------------------------------------------------------------------------------
-- Retention
-- ---------------------------------------------------------------------------------------------

-- Delete records whose last call is older than `days` days; returns how many were deleted. Also
-- forgets applied batch ids older than 7 days (or `days`, when shorter, but never under one day):
-- retries of a flush come within minutes, so older ids are no longer needed for idempotency.
create or replace function public.delete_old_health_records(days double precision default 30)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_deleted integer;
begin
  if days is null or days <= 0 or days = 'Infinity' or days = 'NaN' then
    raise exception 'delete_old_health_records: days must be a number > 0, got %', days using errcode = '22023';
  end if;
  -- Capped at 2 000 000 days (about 5 500 years): recorded calls are from the years 1 to 9999, and
  -- a larger interval would put the cutoff before 4713 BC ("timestamp out of range").
  delete from public.model_health_tracking t
  where t.last_called_at < now() - make_interval(secs => least(days, 2000000) * 86400);
  get diagnostics v_deleted = row_count;

  delete from public.model_health_applied_batches b
  where b.applied_at < now() - make_interval(secs => least(greatest(days, 1), 7) * 86400);

  return v_deleted;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Row level security and privileges
--   service_role: reads and writes everything (it is also the only role that may call the write
--                 functions).
--   anon, authenticated: may read model_health_tracking and call the read functions; write nothing.
-- Supabase's default privileges grant every new table and function in `public` to anon,
-- authenticated and service_role, and PostgreSQL grants EXECUTE on functions to PUBLIC, so revoke
-- first and grant exactly what is meant.
-- ---------------------------------------------------------------------------------------------
alter table public.model_health_tracking enable row level security;
alter table public.model_health_applied_batches enable row level security;

drop policy if exists model_health_tracking_service_role_all on public.model_health_tracking;
create policy model_health_tracking_service_role_all on public.model_health_tracking
  as permissive for all to service_role using (true) with check (true);

drop policy if exists model_health_tracking_read on public.model_health_tracking;
create policy model_health_tracking_read on public.model_health_tracking
  as permissive for select to anon, authenticated using (true);

drop policy if exists model_health_applied_batches_service_role_all on public.model_health_applied_batches;
create policy model_health_applied_batches_service_role_all on public.model_health_applied_batches
  as permissive for all to service_role using (true) with check (true);

revoke all on table public.model_health_tracking from public, anon, authenticated, service_role;
grant select on table public.model_health_tracking to anon, authenticated;
grant select, insert, update, delete on table public.model_health_tracking to service_role;

revoke all on table public.model_health_applied_batches from public, anon, authenticated, service_role;
grant select, insert, update, delete on table public.model_health_applied_batches to service_role;

revoke all on function public.model_health_tracking_set_updated_at() from public, anon, authenticated, service_role;
revoke all on function public.model_health_fold_entries(jsonb) from public, anon, authenticated, service_role;

revoke all on function public.record_model_calls(uuid, jsonb) from public, anon, authenticated, service_role;
grant execute on function public.record_model_calls(uuid, jsonb) to service_role;

revoke all on function public.delete_old_health_records(double precision) from public, anon, authenticated, service_role;
grant execute on function public.delete_old_health_records(double precision) to service_role;

revoke all on function public.get_model_health(text, text) from public;
revoke all on function public.get_all_model_health(text, text, integer, bigint, text, text) from public;
revoke all on function public.get_unhealthy_models(double precision, bigint) from public;
revoke all on function public.get_model_health_stats() from public;
revoke all on function public.get_provider_health_summary(text) from public;
revoke all on function public.get_all_provider_health_summaries() from public;
grant execute on function public.get_model_health(text, text) to anon, authenticated, service_role;
grant execute on function public.get_all_model_health(text, text, integer, bigint, text, text) to anon, authenticated, service_role;
grant execute on function public.get_unhealthy_models(double precision, bigint) to anon, authenticated, service_role;
grant execute on function public.get_model_health_stats() to anon, authenticated, service_role;
grant execute on function public.get_provider_health_summary(text) to anon, authenticated, service_role;
grant execute on function public.get_all_provider_health_summaries() to anon, authenticated, service_role;

grant usage on schema public to anon, authenticated, service_role;
