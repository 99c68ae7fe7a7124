// Section 1a: record-path cost (ns per call) of one comparison, all contenders in one process.
// Usage: node --expose-gc bench/sections/record-path.mjs <counter|gauge|multiLabel|histogram>
import { BATCH, buildRecordFixtures } from '../lib/record-fixtures.mjs';
import { compareTasks, emit, log, pick } from '../lib/common.mjs';

const key = process.argv[2];
const { comparisons } = buildRecordFixtures();
const comparison = comparisons[key];
if (comparison === undefined)
  throw new Error(`unknown comparison "${key}"; expected ${Object.keys(comparisons).join(', ')}`);

log('record', `${key}: ${comparison.tasks.length} contenders, batch ${BATCH}`);
const results = await compareTasks({
  tasks: comparison.tasks,
  batch: BATCH,
  // Many short rounds: on a shared machine, load shifts within seconds; short rotating rounds
  // spread every shift over all contenders.
  rounds: pick(8, 1),
  timeMs: pick(110, 40),
  warmupMs: pick(150, 20),
  minSamples: pick(20, 5),
});
// Verdicts use medians: on a shared machine a preempted sample is an outlier, and the median of
// many short samples (one batch each) is far less sensitive to it than the mean.
const subject = results[comparison.subject].ns.p50;
const baseline = results[comparison.baseline].ns.p50;
const ratio = subject / baseline;
const met = comparison.baseline === 'prom' ? ratio < 1 : ratio <= 1.1;
emit({
  key,
  title: comparison.title,
  baseline: comparison.baseline,
  subject: comparison.subject,
  rawOtel: comparison.rawOtel,
  target: comparison.target,
  ratio,
  met,
  order: comparison.tasks.map((task) => task.id),
  results,
});
