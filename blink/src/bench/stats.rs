//! Latency summary math: exact percentiles over the recorded samples.

use serde::Serialize;

/// Latency distribution of one run, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Number of samples.
    pub count: u64,
    /// Arithmetic mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest sample.
    pub max_ms: f64,
}

/// Nearest-rank percentile of an ascending slice: the smallest sample such that at
/// least `q` of all samples are less than or equal to it. `None` when empty.
pub fn percentile(sorted: &[u64], q: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let q = q.clamp(0.0, 1.0);
    let n = sorted.len();
    // rank in 1..=n; ceil(q * n), at least 1.
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
    Some(sorted[rank - 1])
}

/// Summarise latency samples given in nanoseconds.
pub fn summarize(mut samples_ns: Vec<u64>) -> Summary {
    if samples_ns.is_empty() {
        return Summary::default();
    }
    samples_ns.sort_unstable();
    let ms = |ns: u64| ns as f64 / 1e6;
    let pct = |q: f64| percentile(&samples_ns, q).map(ms).unwrap_or(0.0);
    let sum: u128 = samples_ns.iter().map(|&v| u128::from(v)).sum();
    Summary {
        count: samples_ns.len() as u64,
        mean_ms: sum as f64 / samples_ns.len() as f64 / 1e6,
        p50_ms: pct(0.50),
        p90_ms: pct(0.90),
        p99_ms: pct(0.99),
        p999_ms: pct(0.999),
        max_ms: samples_ns.last().copied().map(ms).unwrap_or(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), Some(50));
        assert_eq!(percentile(&v, 0.9), Some(90));
        assert_eq!(percentile(&v, 0.99), Some(99));
        assert_eq!(percentile(&v, 0.999), Some(100));
        assert_eq!(percentile(&v, 1.0), Some(100));
        assert_eq!(percentile(&v, 0.0), Some(1));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[7], 0.999), Some(7));
    }

    #[test]
    fn summary_in_ms() {
        // 1..=1000 microseconds, shuffled order.
        let mut v: Vec<u64> = (1..=1000u64).map(|us| us * 1_000).collect();
        v.reverse();
        let s = summarize(v);
        assert_eq!(s.count, 1000);
        assert!((s.p50_ms - 0.5).abs() < 1e-12);
        assert!((s.p90_ms - 0.9).abs() < 1e-12);
        assert!((s.p99_ms - 0.99).abs() < 1e-12);
        assert!((s.p999_ms - 0.999).abs() < 1e-12);
        assert!((s.max_ms - 1.0).abs() < 1e-12);
        assert!((s.mean_ms - 0.5005).abs() < 1e-9);
    }

    #[test]
    fn empty_summary_is_zero() {
        assert_eq!(summarize(Vec::new()), Summary::default());
    }
}
