-- @gatewayz/telemetry-supabase: the time of the last error message (after 0001_model_health_tracking.sql).
--
-- Until this migration, last_error_message was replaced only by a call not older than the stored
-- last_called_at, like the other last_* columns. A failed call that arrived after a newer call (a
-- gateway replica's late batch, a retried flush) therefore left an older message in place. The
-- message now has its own time, last_error_at, and follows the most recent failed call by call
-- time, whatever order batches arrive in.
--
-- Plain PostgreSQL 15. Safe to run more than once. Apply it after 0001, in one transaction:
--   psql "$DATABASE_URL" --single-transaction -v ON_ERROR_STOP=1 -f 0002_model_health_last_error_at.sql
-- or copy it into supabase/migrations/ (after 0001) and run `supabase db push`.
-- Running 0001 again afterwards puts back its record_model_calls(): run 0002 again after it.
--
-- Upgrade: existing rows with a message get last_error_at = last_called_at, the latest time their
-- message can be from (their real time was not kept), so no older late error replaces them. The
-- functions keep their signatures and the table only gains a nullable column: a store of an
-- earlier version keeps working after this migration (its entries carry no last_error_at, which
-- then defaults to their last_called_at, as before), and the current store keeps working before
-- it (the database ignores the entries' last_error_at and the rows have none: lastErrorAt is null).

alter table public.model_health_tracking add column if not exists last_error_at timestamptz;

comment on column public.model_health_tracking.last_error_message is
  'Message of the most recent failed call by call time (see last_error_at), at most 500 characters.';
comment on column public.model_health_tracking.last_error_at is
  'When the failed call of last_error_message finished; null when there is no message.';

-- Backfill without touching updated_at ("when calls were last applied"): the trigger is off for it.
alter table public.model_health_tracking disable trigger model_health_tracking_set_updated_at;
update public.model_health_tracking t
set last_error_at = t.last_called_at
where t.last_error_message is not null and t.last_error_at is null;
alter table public.model_health_tracking enable trigger model_health_tracking_set_updated_at;

-- Fold the entries of one batch per (provider, model), as if applied one after the other: counts
-- and response-time totals add up; last_response_time_ms, last_status and last_called_at come from
-- the last entry that is not older than every earlier entry for the same model; the error message
-- from the entry with the latest error time (its last_error_at, or last_called_at when it has none;
-- on a tie the later entry), and last_error_called_at is that time. Internal helper of
-- record_model_calls(); same signature as in 0001.
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
           e.last_called_at,
           case when e.last_error_message is not null then coalesce(e.last_error_at, e.last_called_at) end
             as error_at
    from rows from (
      jsonb_to_recordset(p_entries) as (
        provider text, model text, calls bigint, successes bigint, errors bigint,
        total_response_time_ms double precision, last_response_time_ms double precision,
        last_status text, last_error_message text, last_called_at timestamptz, last_error_at timestamptz)
    ) with ordinality as e(provider, model, calls, successes, errors, total_response_time_ms,
                           last_response_time_ms, last_status, last_error_message, last_called_at,
                           last_error_at, ord)
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
         (array_agg(s.last_error_message order by s.error_at desc, s.ord desc)
            filter (where s.error_at is not null))[1],
         max(s.last_called_at),
         max(s.error_at)
  from sequenced s
  group by s.provider, s.model
$$;

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
-- Concurrency: as in 0001 (batch id primary key; one INSERT ... ON CONFLICT DO UPDATE locking rows
-- in (provider, model) byte order).
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

-- create or replace keeps the grants of 0001; restate them so this file stands on its own.
revoke all on function public.model_health_fold_entries(jsonb) from public, anon, authenticated, service_role;
revoke all on function public.record_model_calls(uuid, jsonb) from public, anon, authenticated, service_role;
grant execute on function public.record_model_calls(uuid, jsonb) to service_role;
