// Small helpers shared by the bench scripts: percentiles and number formatting.
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function median(values) {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** Times `fn` (sync or async) `iterations` times after `warmup` calls; returns per-call µs (median, p99). */
export async function timeEach(fn, { warmup = 2000, iterations = 20000, setup } = {}) {
  for (let i = 0; i < warmup; i++) await fn(setup?.());
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const input = setup?.();
    const t0 = process.hrtime.bigint();
    await fn(input);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  samples.sort();
  return { median: percentile(samples, 50), p99: percentile(samples, 99), n: iterations };
}

/** The same for a synchronous function (no microtask turn per call). */
export function timeEachSync(fn, { warmup = 2000, iterations = 20000, setup } = {}) {
  for (let i = 0; i < warmup; i++) fn(setup?.());
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const input = setup?.();
    const t0 = process.hrtime.bigint();
    fn(input);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  samples.sort();
  return { median: percentile(samples, 50), p99: percentile(samples, 99), n: iterations };
}

export const fmt = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
