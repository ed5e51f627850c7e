//! Sorting by fingerprint in two cores, and the layouts the passes share.

/// One usable value of the row being added: fingerprint, identifier and its scope's
/// tag in the high byte (a part keeps the two in arrays of their own).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Link {
    pub(crate) fp: u64,
    pub(crate) ident: u16,
}

/// The longest usable value, in bytes; longer ones are unusable (no identifier is
/// that long, and links stay small).
pub const MAX_VALUE_LEN: usize = u16::MAX as usize;

/// What [`Builder::index`] sorts by fingerprint: first the parts' records, then the
/// records' links. Both sorts fill one buffer, so the second writes to memory the
/// first has mapped already. Items are 20 bytes: the fingerprint is kept as two
/// halves, high first, so that items order by it as by a number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, bytemuck::Zeroable)]
pub(crate) struct Item {
    pub(crate) fp: [u32; 2],
    /// A part record's number over all parts; a link's record.
    pub(crate) rec: u32,
    /// A part record's link count; a link's place in the records' links.
    pub(crate) at: u32,
    /// A part record's source; a link's identifier.
    pub(crate) data: u32,
}

impl Item {
    pub(crate) fn new(fp: u64, rec: u32, at: u32, data: u32) -> Item {
        Item {
            fp: [(fp >> 32) as u32, fp as u32],
            rec,
            at,
            data,
        }
    }

    pub(crate) fn fp(&self) -> u64 {
        u64::from(self.fp[0]) << 32 | u64::from(self.fp[1])
    }
}

/// Rows or positions per block when writes that land out of order are grouped first:
/// a block of `u32`s (128 KiB) stays in the cache while it is written.
pub(crate) const BLOCK: u32 = 15;

/// Where each block of `0..n` begins when every index of `0..n` is listed exactly
/// once, grouped by block (`i >> BLOCK`).
pub(crate) fn block_starts(n: usize) -> Vec<usize> {
    (0..n.div_ceil(1 << BLOCK)).map(|b| b << BLOCK).collect()
}

/// The items of `shard` (0 or 1) when `n` items are listed in two shards: the first
/// half, or the rest.
pub(crate) fn shard_of(n: usize, shard: usize) -> std::ops::Range<usize> {
    if shard == 0 { 0..n / 2 } else { n / 2..n }
}

/// Items a pass gathers before reading, in one branch-free pass, what they need from
/// places at random in a big array (a parent, a target): a read that a branch waits on
/// right away waits for the read before it, while reads made one after another
/// overlap. The buffers have room for the last item's group beyond it.
pub(crate) const GATHER: usize = 256;

/// A link whose value links nothing.
pub(crate) const JUNK: u16 = u16::MAX;

/// The items `each` lists, sorted; their `key` is a fingerprint (spread evenly over 64
/// bits). `each(shard, put)` lists the items in two shards (any split: one shard may
/// hold all), each listed on its own core. Each shard is listed twice: once to count
/// its items of each of 256 buckets (the key's top 8 bits), once to put every item
/// straight into its bucket (each shard into its own region of the bucket), so no
/// second buffer of the items' size is needed (fresh memory costs a page fault per
/// 4 KiB). Each bucket is then sorted on its own, half of them on each core, by
/// [`sort_bucket`]. Items with equal keys end in `Ord` order.
pub(crate) fn sort_by_fp<T: Copy + Ord + Default + Send>(
    each: impl Fn(usize, &mut dyn FnMut(T)) + Sync,
    key: impl Fn(&T) -> u64 + Sync,
) -> Vec<T> {
    let mut items = Vec::new();
    let n = sort_by_fp_into(&mut items, each, key);
    items.truncate(n);
    items
}

/// [`sort_by_fp`] into the first items of `items`; returns how many. What `items`
/// held is overwritten, not cleared first, and it grows only when it is too short (a
/// buffer from a zeroed allocation is mapped as the sort first writes it, on both
/// cores).
pub(crate) fn sort_by_fp_into<T: Copy + Ord + Default + Send>(
    items: &mut Vec<T>,
    each: impl Fn(usize, &mut dyn FnMut(T)) + Sync,
    key: impl Fn(&T) -> u64 + Sync,
) -> usize {
    let (each, key) = (&each, &key);
    let count = |shard: usize| {
        let mut counts = vec![0usize; 256];
        each(shard, &mut |x| counts[(key(&x) >> 56) as usize] += 1);
        counts
    };
    let shard_counts: [Vec<usize>; 2] = std::thread::scope(|scope| {
        let second = scope.spawn(|| count(1));
        [count(0), second.join().expect("counting does not panic")]
    });
    let mut counts = vec![0usize; 257];
    for d in 0..256 {
        counts[d + 1] = counts[d] + shard_counts[0][d] + shard_counts[1][d];
    }
    let n = counts[256];
    if items.len() < n {
        items.resize(n, T::default());
    }
    let items = &mut items[..n];
    // Each shard's region of each bucket.
    let mut regions: [Vec<&mut [T]>; 2] = [Vec::with_capacity(256), Vec::with_capacity(256)];
    let mut rest: &mut [T] = items;
    for (&first, &second) in shard_counts[0].iter().zip(&shard_counts[1]) {
        for (region, len) in regions.iter_mut().zip([first, second]) {
            let (mine, after) = std::mem::take(&mut rest).split_at_mut(len);
            region.push(mine);
            rest = after;
        }
    }
    let place = |shard: usize, mut region: Vec<&mut [T]>| {
        let mut next = [0usize; 256];
        each(shard, &mut |x| {
            let d = (key(&x) >> 56) as usize;
            region[d][next[d]] = x;
            next[d] += 1;
        });
    };
    let [first, second] = regions;
    std::thread::scope(|scope| {
        scope.spawn(|| place(1, second));
        place(0, first);
    });
    if n < 1 << 16 {
        items.sort_unstable();
        return n;
    }
    let half = counts.partition_point(|&b| b < n / 2);
    let (lo, hi) = items.split_at_mut(counts[half]);
    let finish = move |items: &mut [T], bounds: &[usize]| {
        let base = bounds[0];
        let widest = bounds.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
        let mut scratch = vec![T::default(); widest];
        for w in bounds.windows(2) {
            let bucket = &mut items[w[0] - base..w[1] - base];
            sort_bucket(bucket, &mut scratch[..bucket.len()], key);
        }
    };
    std::thread::scope(|scope| {
        let upper = scope.spawn(|| finish(hi, &counts[half..]));
        finish(lo, &counts[..=half]);
        upper.join().expect("sorting does not panic");
    });
    n
}

/// Sorts items whose `key` is a fingerprint; see [`sort_by_fp`].
pub(crate) fn bucket_sort<T: Copy + Ord + Default + Send + Sync>(
    items: &mut Vec<T>,
    key: impl Fn(&T) -> u64 + Sync,
) {
    if items.len() < 1 << 16 {
        items.sort_unstable();
        return;
    }
    let sorted = sort_by_fp(
        |shard, put| {
            items[shard_of(items.len(), shard)]
                .iter()
                .for_each(|&x| put(x))
        },
        key,
    );
    *items = sorted;
}

/// Sorts a bucket of [`sort_by_fp`] (items whose keys share their top 8 bits) by the
/// next 16 bits, 8 at a time from the lower (each pass stable, through `scratch`, which
/// the cache holds), then the few runs of items whose top 24 bits are equal by `Ord`.
pub(crate) fn sort_bucket<T: Copy + Ord>(
    bucket: &mut [T],
    scratch: &mut [T],
    key: impl Fn(&T) -> u64,
) {
    let digit = |x: &T, shift: u32| (key(x) >> shift) as usize & 0xff;
    let mut low = [0usize; 256];
    let mut high = [0usize; 256];
    for x in bucket.iter() {
        low[digit(x, 40)] += 1;
        high[digit(x, 48)] += 1;
    }
    let starts = |counts: &mut [usize; 256]| {
        let mut at = 0;
        for c in counts.iter_mut() {
            let n = *c;
            *c = at;
            at += n;
        }
    };
    starts(&mut low);
    starts(&mut high);
    for &x in bucket.iter() {
        let d = digit(&x, 40);
        scratch[low[d]] = x;
        low[d] += 1;
    }
    for &x in scratch.iter() {
        let d = digit(&x, 48);
        bucket[high[d]] = x;
        high[d] += 1;
    }
    let mut i = 0;
    while i < bucket.len() {
        let top = key(&bucket[i]) >> 40;
        let mut j = i + 1;
        while j < bucket.len() && key(&bucket[j]) >> 40 == top {
            j += 1;
        }
        if j - i > 1 {
            bucket[i..j].sort_unstable();
        }
        i = j;
    }
}

/// Sorts (fingerprint, payload) pairs.
pub(crate) fn radix_sort(items: &mut Vec<(u64, u32)>) {
    bucket_sort(items, |x| x.0);
}
