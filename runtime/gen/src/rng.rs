//! Random draws from ChaCha8 streams. Only `next_u64` of the generator is used and
//! every conversion is done here, so the output depends on the seed alone.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Independent streams of one seed: one per household, one per chunk (for
/// shuffling) and one for the stores.
#[derive(Clone)]
pub(crate) struct Streams {
    base: ChaCha8Rng,
}

pub(crate) const STORE_STREAM: u64 = u64::MAX;
const CHUNK_STREAMS: u64 = 1 << 62;

impl Streams {
    pub(crate) fn new(seed: u64) -> Streams {
        Streams {
            base: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    pub(crate) fn stream(&self, n: u64) -> Draw {
        let mut rng = self.base.clone();
        rng.set_stream(n);
        Draw { rng }
    }

    pub(crate) fn household(&self, k: u64) -> Draw {
        self.stream(k)
    }

    pub(crate) fn chunk(&self, c: u64) -> Draw {
        self.stream(CHUNK_STREAMS + c)
    }
}

pub(crate) struct Draw {
    rng: ChaCha8Rng,
}

impl Draw {
    pub(crate) fn u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// An index drawn with the given weights.
    pub(crate) fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.below(u64::from(total)) as u32;
        for (i, &w) in weights.iter().enumerate() {
            if x < w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    /// An index drawn from cumulative weights.
    pub(crate) fn cumulative(&mut self, cumulative: &[f64]) -> usize {
        let total = cumulative.last().copied().unwrap_or(0.0);
        let x = self.unit() * total;
        cumulative
            .partition_point(|&c| c <= x)
            .min(cumulative.len() - 1)
    }

    /// Standard normal (Box–Muller).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Exponential with mean 1.
    pub(crate) fn exponential(&mut self) -> f64 {
        -(1.0 - self.unit()).ln()
    }

    /// Poisson with mean `lambda`.
    pub(crate) fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda > 30.0 {
            return (lambda + lambda.sqrt() * self.normal()).round().max(0.0) as u64;
        }
        let limit = (-lambda).exp();
        let mut k = 0;
        let mut p = self.unit();
        while p > limit {
            k += 1;
            p *= self.unit();
        }
        k
    }

    /// Fisher–Yates.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn means() {
        let mut d = Streams::new(5).household(3);
        let n = 20_000;
        let p: u64 = (0..n).map(|_| d.poisson(2.5)).sum();
        assert!((p as f64 / n as f64 - 2.5).abs() < 0.1);
        let e: f64 = (0..n).map(|_| d.exponential()).sum();
        assert!((e / n as f64 - 1.0).abs() < 0.05);
        let z: f64 = (0..n).map(|_| d.normal().powi(2)).sum();
        assert!((z / n as f64 - 1.0).abs() < 0.05);
        assert!((0..1000).all(|_| d.between(3, 5) >= 3 && d.between(3, 5) <= 5));
    }

    #[test]
    fn streams_differ_and_repeat() {
        let s = Streams::new(1);
        let a: Vec<u64> = (0..4).map(|_| s.household(0).u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(s.household(0).u64(), s.household(1).u64());
    }
}
