import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain-JS bench module without type declarations
import { evaluateTargets, renderReport } from '../lib/render.mjs';
// @ts-expect-error -- a plain-JS bench module without type declarations
import { renderTraces, traceTargets } from '../lib/render-traces.mjs';
import { allocResult, gatewayResult, rawFile, tracesResult } from './fixtures/report-results.js';

const verdicts = (raw: any, prefix: string) =>
  Object.fromEntries(
    evaluateTargets(raw.results)
      .filter((target: any) => target.id.startsWith(prefix))
      .map((target: any) => [target.id, target.met]),
  );

describe('section 8: failed requests', () => {
  it('meets every target when no request failed (the control)', () => {
    const raw = rawFile({ traces: tracesResult({ rssTraced: 90 }) });
    expect(verdicts(raw, 'traces-')).toEqual({
      'traces-throughput': true,
      'traces-cpu': true,
      'traces-p99': true,
      'traces-ratio': true,
      'traces-heap': true,
      'traces-rss': true,
    });
    expect(renderTraces(raw.results)).not.toMatch(/Failed requests|failed requests/);
  });

  it('judges a comparison whose configurations saw failures inconclusive, and shows the counts', () => {
    const raw = rawFile({ traces: tracesResult({ tracedFailures: 5, rssTraced: 90 }) });
    const targets = traceTargets(raw.results.traces);
    const byId = Object.fromEntries(targets.map((target: any) => [target.id, target]));
    for (const id of ['traces-throughput', 'traces-cpu', 'traces-p99']) {
      expect(byId[id].met).toBe('inconclusive');
      expect(byId[id].measured).toMatch(/non-streaming \(5 failed requests\), .* streaming$/);
    }
    // ratio against off saw none.
    expect(byId['traces-ratio'].met).toBe(true);
    expect(renderTraces(raw.results)).toContain('Failed requests (a non-2xx answer or none');
    expect(renderTraces(raw.results)).toMatch(/off 0, traced \(always_on\) 5, ratio 0\.1 0, stock 0\./);
  });

  it('judges the memory targets inconclusive when requests of the memory phase failed', () => {
    const traces = tracesResult({ rssTraced: 90 });
    traces.memory.failures = 12;
    const raw = rawFile({ traces });
    expect(verdicts(raw, 'traces-')).toMatchObject({ 'traces-heap': 'inconclusive', 'traces-rss': 'inconclusive' });
  });
});

describe('point estimates the section could not measure (NaN in the section, null in the raw JSON)', () => {
  it('leave the RSS and live-heap targets inconclusive, not met', () => {
    const traces = tracesResult({ rssTraced: NaN });
    traces.memory.growth = NaN;
    const raw = rawFile({ traces });
    expect(raw.results.traces.rssAfterMb.traced).toBeNull();
    expect(verdicts(raw, 'traces-')).toMatchObject({ 'traces-heap': 'inconclusive', 'traces-rss': 'inconclusive' });
  });

  it('leave the flood, model-health and profile targets inconclusive', () => {
    const gateway = gatewayResult();
    const profile = { requests: 4000, busyMs: 3000, shares: { applicationAndNode: NaN }, telemetryShare: NaN };
    gateway.profiles = { on: profile, off: profile };
    const raw = rawFile({
      'memory-flood': {
        calls: 1_000_000,
        heapBeforeMb: NaN,
        heapAfterMb: NaN,
        seriesRequests: NaN,
        maxSeriesPerMetric: 2000,
        overflowTotal: { other: 1 },
      },
      'model-health-db': {
        recordCallsPerSecond: NaN,
        recordNsPerCall: NaN,
        roundTripRatio: NaN,
        writeBehind: { requestsPer10k: 1 },
        naive: { requestsPer10k: 10_000 },
      },
      gateway,
    });
    expect(verdicts(raw, 'memory-flood')).toEqual({ 'memory-flood': 'inconclusive' });
    expect(verdicts(raw, 'model-health-')).toEqual({
      'model-health-record': 'inconclusive',
      'model-health-roundtrips': 'inconclusive',
    });
    expect(verdicts(raw, 'gateway-profile')).toEqual({ 'gateway-profile': 'inconclusive' });
  });
});

describe('section 3: failed requests', () => {
  it('meets the targets the section judged met when no request failed', () => {
    expect(verdicts(rawFile({ gateway: gatewayResult() }), 'gateway-')).toEqual({
      'gateway-nonStreaming-throughput': true,
      'gateway-nonStreaming-p99': true,
      'gateway-streaming-throughput': true,
      'gateway-streaming-p99': true,
    });
  });

  it('judges B against A inconclusive once B saw failures, in the targets and in the section', () => {
    const raw = rawFile({ gateway: gatewayResult({ onFailures: 7 }) });
    expect(new Set(Object.values(verdicts(raw, 'gateway-')))).toEqual(new Set(['inconclusive']));
    const report = renderReport({ ...raw, short: false, partial: false });
    expect(report).toContain('(target ≥ 95 %) — **inconclusive**');
    expect(report).toContain('(target ≤ +1 ms) — **inconclusive**');
    expect(report).toContain('98.0 % [95 % CI 97.0 % … 99.0 %]; 7 failed requests (A and B)');
  });

  it('names the Node.js of the recorded run, not of the process rendering it', () => {
    const report = renderReport({ ...rawFile({ gateway: gatewayResult() }), short: false, partial: false });
    expect(report).toContain('across every `await` on Node.js 22.');
  });
});

describe('allocation verdicts', () => {
  it('are inconclusive when a collection ran inside a window, whatever the figure', () => {
    expect(new Set(Object.values(verdicts(rawFile({ alloc: allocResult(-12.5, false) }), 'alloc-')))).toEqual(
      new Set(['inconclusive']),
    );
    expect(new Set(Object.values(verdicts(rawFile({ alloc: allocResult(0, false) }), 'alloc-')))).toEqual(
      new Set(['inconclusive']),
    );
  });

  it('are inconclusive below −1 B/call or unmeasured, and met at zero', () => {
    expect(new Set(Object.values(verdicts(rawFile({ alloc: allocResult(-12.5, true) }), 'alloc-')))).toEqual(
      new Set(['inconclusive']),
    );
    expect(new Set(Object.values(verdicts(rawFile({ alloc: allocResult(NaN, true) }), 'alloc-')))).toEqual(
      new Set(['inconclusive']),
    );
    expect(new Set(Object.values(verdicts(rawFile({ alloc: allocResult(0, true) }), 'alloc-')))).toEqual(
      new Set([true]),
    );
    expect(new Set(Object.values(verdicts(rawFile({ alloc: allocResult(40, true) }), 'alloc-')))).toEqual(
      new Set([false]),
    );
  });
});

describe('the busy-machine banner', () => {
  it('does not claim that every verdict uses medians', () => {
    const raw = rawFile({});
    raw.machine.loadStart = [3, 3, 3];
    const report = renderReport({ ...raw, short: false, partial: false });
    expect(report).toContain('The machine was shared and busy');
    expect(report).not.toContain('interleaved and verdicts use medians');
    expect(report).toContain('sections 3 and 8 judge 95 % intervals');
  });
});
