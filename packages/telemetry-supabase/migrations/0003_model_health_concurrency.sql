-- @gatewayz/telemetry-supabase: concurrent deliveries and retention (after 0002_model_health_last_error_at.sql).
--
-- Two fixes for writes that run at the same time; no table, column or signature changes.
--
-- 1. A repeated delivery of a batch that is still being applied fails at once instead of waiting.
--    When record_model_calls() is slow (another session holds a row lock it needs), the store's
--    request times out, but PostgREST does not cancel the query, and the recorder delivers the
--    same batch id again. Each repeat used to wait on the first delivery's uncommitted batch id,
--    holding one PostgREST pool connection, until the pool was full and unrelated reads timed out.
--    Now each delivery first takes a transaction-scoped advisory lock on its batch id; a delivery
--    that cannot get it raises SQLSTATE 55P03 (lock_not_available), which the store reports as
--    retryable, so the recorder backs off and, once the first delivery is done, finds the batch
--    applied (0 rows).
-- 2. delete_old_health_records() locks the rows it deletes in (provider, model) byte order, the
--    order record_model_calls() locks them in, so retention and concurrent flushes no longer
--    deadlock (40P01) on rows that a flush is bringing back to life.
--
-- Plain PostgreSQL 15. Safe to run more than once. Apply it after 0002, in one transaction:
--   psql "$DATABASE_URL" --single-transaction -v ON_ERROR_STOP=1 -f 0003_model_health_concurrency.sql
-- or copy it into supabase/migrations/ (after 0002) and run `supabase db push`.
-- Running 0001 or 0002 again afterwards puts back their functions: run the later ones again after.
--
-- Upgrade: stores of any version keep working before and after this migration; earlier stores
-- already treat 55P03 as a retryable, transient condition.

-- Apply one flush of the write-behind recorder atomically and at most once per batch id.
--
-- p_entries is a JSON array of
--   { "provider": text, "model": text, "calls": int >= 1, "successes": int, "errors": int,
--     "total_response_time_ms": number, "last_response_time_ms": number,
--     "last_status": "success"|"error"|"timeout"|"rate_limited"|"network_error",
--     "last_error_message": text|null, "last_error_at": ISO-8601 timestamp|null (optional),
--     "last_called_at": ISO-8601 timestamp }
-- Entries are applied as if one after the other: counts add up, the mean response time is
-- re-weighted, last_response_time_ms, last_status and last_called_at are replaced by an entry whose
-- last_called_at is not older than the stored one, and last_error_message and last_error_at by an
-- entry with a message whose last_error_at (default its last_called_at) is not older than the
-- stored last_error_at. Several entries may name the same (provider, model). Error messages are
-- cut to 500 characters.
--
-- Returns the number of (provider, model) rows written, or 0 when the batch id was applied before.
--
-- Concurrency: the batch id is the primary key of model_health_applied_batches, and one
-- INSERT ... ON CONFLICT DO UPDATE locks the rows in (provider, model) byte order. A delivery of a
-- batch id that another transaction is still applying raises 55P03 at once (retry later) rather
-- than waiting for that transaction on the batch id.
create or replace function public.record_model_calls(p_batch_id uuid, p_entries jsonb)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_problem text;
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
        when coalesce(jsonb_typeof(x.value -> 'last_error_at'), 'null') not in ('null', 'string')
          then 'needs an ISO-8601 timestamp string or null in "last_error_at"'
        when jsonb_typeof(x.value -> 'last_error_at') = 'string'
          and coalesce(jsonb_typeof(x.value -> 'last_error_message'), 'null') = 'null'
          then 'has "last_error_at" without "last_error_message"'
        when jsonb_typeof(x.value -> 'last_error_at') = 'string'
          and (x.value ->> 'last_error_at')::timestamptz > (x.value ->> 'last_called_at')::timestamptz
          then 'has "last_error_at" after "last_called_at"'
      end as problem
    from jsonb_array_elements(p_entries) with ordinality as x(value, ord)
  ) e
  where e.problem is not null
  order by e.ord
  limit 1;
  if v_problem is not null then
    raise exception 'record_model_calls: %', v_problem using errcode = '22023';
  end if;

  -- Without this, a repeated delivery would wait on the first one's uncommitted batch id for as long
  -- as that one is blocked, each holding a PostgREST connection (see the header).
  if not pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtextextended(p_batch_id::text, 0)) then
    raise exception 'record_model_calls: batch % is still being applied by an earlier delivery', p_batch_id
      using errcode = '55P03',
            hint = 'Retry later: once the earlier delivery is done, the batch is applied (at most once).';
  end if;

  insert into public.model_health_applied_batches (batch_id) values (p_batch_id)
  on conflict (batch_id) do nothing;
  if not found then
    return 0;
  end if;

  insert into public.model_health_tracking as t (
    provider, model, call_count, success_count, error_count, last_response_time_ms,
    avg_response_time_ms, last_status, last_error_message, last_error_at, last_called_at)
  select f.provider, f.model, f.calls, f.successes, f.errors, f.last_response_time_ms,
         f.total_response_time_ms / f.calls, f.last_status, f.last_error_message, f.last_error_called_at,
         f.last_called_at
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
    -- Both from the old row's values (every SET expression reads the row as it was).
    last_error_message = case
      when excluded.last_error_at is not null
       and (t.last_error_at is null or excluded.last_error_at >= t.last_error_at)
        then excluded.last_error_message
      else t.last_error_message
    end,
    last_error_at = case
      when excluded.last_error_at is not null
       and (t.last_error_at is null or excluded.last_error_at >= t.last_error_at)
        then excluded.last_error_at
      else t.last_error_at
    end,
    last_called_at = greatest(t.last_called_at, excluded.last_called_at),
    updated_at = now();

  get diagnostics v_written = row_count;
  return v_written;
end
$$;

comment on function public.record_model_calls(uuid, jsonb) is
  'Apply one write-behind flush atomically and at most once per batch id; returns rows written (0 for a repeated batch id).';

-- Delete records whose last call is older than `days` days; returns how many were deleted. Also
-- forgets applied batch ids older than 7 days (or `days`, when shorter, but never under one day):
-- retries of a flush come within minutes, so older ids are no longer needed for idempotency.
--
-- Concurrency: the rows to delete are locked first, in (provider, model) byte order like
-- record_model_calls() locks them; a plain DELETE locks them in scan order and can deadlock with a
-- flush of several of them. A row a flush updates meanwhile is re-checked and kept.
create or replace function public.delete_old_health_records(days double precision default 30)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_cutoff timestamptz;
  v_deleted integer;
begin
  if days is null or days <= 0 or days = 'Infinity' or days = 'NaN' then
    raise exception 'delete_old_health_records: days must be a number > 0, got %', days using errcode = '22023';
  end if;
  -- Capped at 2 000 000 days (about 5 500 years): recorded calls are from the years 1 to 9999, and
  -- a larger interval would put the cutoff before 4713 BC ("timestamp out of range").
  v_cutoff := now() - make_interval(secs => least(days, 2000000) * 86400);

  -- Materialised, so every victim is locked (in order) by this select before the delete touches it.
  with victim as materialized (
    select t.provider, t.model
    from public.model_health_tracking t
    where t.last_called_at < v_cutoff
    order by t.provider collate "C", t.model collate "C"
    for update
  )
  delete from public.model_health_tracking t
  using victim v
  where t.provider = v.provider and t.model = v.model and t.last_called_at < v_cutoff;
  get diagnostics v_deleted = row_count;

  delete from public.model_health_applied_batches b
  where b.applied_at < now() - make_interval(secs => least(greatest(days, 1), 7) * 86400);

  return v_deleted;
end
$$;

-- create or replace keeps the grants of 0001; restate them so this file stands on its own.
revoke all on function public.record_model_calls(uuid, jsonb) from public, anon, authenticated, service_role;
grant execute on function public.record_model_calls(uuid, jsonb) to service_role;
revoke all on function public.delete_old_health_records(double precision) from public, anon, authenticated, service_role;
grant execute on function public.delete_old_health_records(double precision) to service_role;
