//! Fingerprints: stable 64-bit hashes of bytes and words, part of the storage format.

/// A stable 64-bit fingerprint of bytes. The function is part of mj's storage
/// format (record keys and OneIDs persist between runs): never change it.
pub fn fingerprint(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = fingerprint_start(seed, bytes.len());
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = fingerprint_mix(h, w);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        h = fingerprint_mix(h, tail_word(rest));
    }
    fingerprint_end(h)
}

/// [`fingerprint`] of the words' little-endian bytes, one after another.
pub fn fingerprint_words(seed: u64, words: &[u64]) -> u64 {
    let h = fingerprint_start(seed, words.len() * 8);
    fingerprint_end(words.iter().fold(h, |h, &w| fingerprint_mix(h, w)))
}

pub(crate) fn fingerprint_start(seed: u64, len: usize) -> u64 {
    seed ^ (len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

pub(crate) fn fingerprint_mix(h: u64, w: u64) -> u64 {
    pub(crate) const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    (h.rotate_left(5) ^ w).wrapping_mul(K)
}

/// murmur3's finalizer: every input bit reaches every output bit.
pub(crate) fn fingerprint_end(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The 1 to 7 bytes of `rest` as a little-endian word padded with zeros, read with
/// loads that overlap (what a byte copy into a zeroed word gives, without the copy:
/// a word loaded right after bytes were stored into it waits for the stores).
pub(crate) fn tail_word(rest: &[u8]) -> u64 {
    let n = rest.len();
    if n >= 4 {
        let lo = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let hi = u32::from_le_bytes([rest[n - 4], rest[n - 3], rest[n - 2], rest[n - 1]]);
        u64::from(lo) | u64::from(hi) << ((n - 4) * 8)
    } else {
        u64::from(rest[0])
            | u64::from(rest[n / 2]) << (n / 2 * 8)
            | u64::from(rest[n - 1]) << ((n - 1) * 8)
    }
}
