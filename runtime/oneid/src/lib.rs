//! Identity resolution: which records are the same person.
//!
//! Records come from the sources a `oneid` item links; each carries values of the
//! declared identifiers. The engine normalizes the values, maps them to dense integer
//! ids through 64-bit fingerprints (no string is hashed twice or kept in a map), and
//! joins records into people with a union-find over records and values. The rules,
//! in the order they apply:
//!
//! 1. **Junk.** A value in a `reject` list, or shared by more distinct records than
//!    `reject frequent above N`, links nothing and is reported.
//! 2. **Strong identifiers** (the default) join every record carrying the same value.
//!    Identifiers with a capacity — `unique` (one value per person) or
//!    `max_per_person N` — are cannot-link constraints: a join that would give one
//!    person more values than that is refused and reported as a conflict. Identifiers
//!    are applied capacity-constrained first (in declaration order), then the others
//!    in declaration order, each over records in order of their fingerprints (so the
//!    result does not depend on the order rows arrive in); the first join wins.
//! 3. **Weak identifiers** (`weak`, a device) join what no strong identifier keeps
//!    apart: a weak value joins every person and anonymous record carrying it, unless
//!    two of them hold different values of one strong identifier (within one scope,
//!    for a scoped identifier: two openids of one mini-program) or together more
//!    values of a weak identifier than its `max_per_person`; then it joins none of
//!    them ([`Refusal`]). Weak values are taken fewest people reached first (then by
//!    fingerprint), so a person's own devices gather the person before a shared one
//!    (a family iPad) is looked at.
//! 4. **`max_component N`.** A person gathering more than `N` records is cut: the
//!    value joining the most of its records is dropped (ties: the smallest
//!    fingerprint) until every part is within `N`; each dropped value is reported.
//!
//! Records are deduplicated: two rows of one source with the same normalized
//! identifier values are one record. A value longer than [`MAX_VALUE_LEN`] bytes
//! after normalizing is unusable, like one that normalizes to nothing. Fingerprints are 64-bit ([`fingerprint`]);
//! with 20 million distinct values the chance of any collision is about 1 in 100,000.

mod build;
mod evidence;
mod hash;
pub mod normalize;
mod resolution;
mod resolve;
mod sort;
pub mod stable;

pub use build::Builder;
#[allow(unused_imports)]
use build::*;
pub use evidence::{Components, Evidence};
#[allow(unused_imports)]
use hash::*;
pub use hash::{fingerprint, fingerprint_words};
pub use resolution::{Explanation, Hop, Resolution, Rows};
#[allow(unused_imports)]
use resolve::*;
pub use sort::MAX_VALUE_LEN;
#[allow(unused_imports)]
use sort::*;

pub use normalize::Normalizer;

/// How one identifier links records.
#[derive(Clone, Debug)]
pub struct IdentifierRule {
    pub name: String,
    pub normalizer: Normalizer,
    pub weak: bool,
    /// `unique` is 1; `max_per_person N` is N.
    pub capacity: Option<u32>,
    /// `scoped by COLUMN`: the value means something only with the scope's value.
    pub scoped: bool,
    /// Read from a `pii` column: its values are masked ([`mask`]) wherever the engine
    /// shows them, unless the caller asks for them in clear.
    pub pii: bool,
}

impl IdentifierRule {
    /// A raw value as the engine links it: normalized, after its scope (`scope/value`)
    /// when the identifier is scoped, at most [`MAX_VALUE_LEN`] bytes; `None` when it
    /// is unusable. The value may live in `norm` or `scoped`.
    pub fn linked<'a>(
        &self,
        raw: &'a str,
        scope: Option<&str>,
        norm: &'a mut String,
        scoped: &'a mut String,
    ) -> Option<&'a str> {
        let mut value = self.normalizer.normalize(raw, norm)?;
        if self.scoped {
            let scope = scope.map(str::trim).filter(|s| !s.is_empty())?;
            scoped.clear();
            scoped.push_str(scope);
            scoped.push('/');
            scoped.push_str(value);
            value = scoped;
        }
        (value.len() <= MAX_VALUE_LEN).then_some(value)
    }
}

/// The rules of one `oneid` item.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    pub identifiers: Vec<IdentifierRule>,
    /// (identifier index, raw value) pairs that never link; normalized like data.
    pub rejects: Vec<(usize, String)>,
    pub frequent_above: Option<u64>,
    pub max_component: Option<u64>,
}

/// What became of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueState {
    Usable,
    /// In a `reject` list.
    Rejected,
    /// Shared by more distinct records than `reject frequent above`.
    Frequent,
    /// Dropped to cut a person larger than `max_component`.
    Cut,
}

/// One distinct identifier value.
#[derive(Clone, Debug)]
pub struct Value {
    pub identifier: u16,
    /// For a value of a scoped identifier, a tag of its scope ([`scope_tag`]); 0
    /// otherwise. Weak joins compare values of one identifier within one scope.
    pub scope: u8,
    pub fingerprint: u64,
    /// Distinct records carrying it.
    pub records: u32,
    pub state: ValueState,
}

/// A join refused because a person would hold too many values of an identifier.
#[derive(Clone, Debug)]
pub struct Conflict {
    /// The identifier whose capacity was exceeded.
    pub identifier: u16,
    /// The value whose join was refused, and the record carrying it.
    pub value: u32,
    pub record: u32,
}

/// Why a weak value joined none of the people carrying it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Two of them hold different values of this strong identifier (in one scope):
    /// two members on one family tablet.
    Conflict { identifier: u16 },
    /// Together they hold more values of this weak identifier than its
    /// `max_per_person`.
    OverCapacity { identifier: u16 },
}

/// Not a place: a part's record that repeats a record named by an earlier one.
const NONE: u32 = u32::MAX;

/// A personal value as manifests and explanations show it: the middle hidden, enough
/// left to tell values apart in a ticket. A phone keeps its first three and last four
/// digits (`138****5678`), an e-mail its first letter and domain (`z***@163.com`), a
/// scoped value its scope (`wx7d3f/o2Y***9k`); a value of four characters or fewer is
/// hidden whole.
pub fn mask(text: &str) -> String {
    if let Some((scope, value)) = text.rsplit_once('/') {
        return format!("{scope}/{}", mask(value));
    }
    if let Some((local, domain)) = text.split_once('@') {
        let first: String = local.chars().take(1).collect();
        return format!("{first}***@{domain}");
    }
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let (head, tail) = match n {
        0..=4 => (0, 0),
        5..=7 => (1, 1),
        _ => (3, 4),
    };
    let mut out: String = chars[..head].iter().collect();
    out.extend(std::iter::repeat_n('*', n - head - tail));
    out.extend(&chars[n - tail..]);
    out
}

/// The most identifiers one `oneid` may declare: a link keeps its identifier in one
/// byte and its scope's tag in the other.
pub const MAX_IDENTIFIERS: usize = 256;

/// The tag of a scoped value's scope, 1 to 255 (0 for an identifier without a scope):
/// a byte of the scope's fingerprint. Two scopes may share a tag (one in 255 pairs);
/// weak joins then take their values for one scope's, which can only keep people
/// apart, never join them.
pub fn scope_tag(rule: &IdentifierRule, scope: Option<&str>) -> u8 {
    match scope.map(str::trim) {
        Some(s) if rule.scoped && !s.is_empty() => {
            1 + (fingerprint(0x73_636f_7065, s.as_bytes()) % 255) as u8
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests;
