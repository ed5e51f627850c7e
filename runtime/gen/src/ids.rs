//! Identifiers: unique by construction, scrambled so that they do not reveal the
//! order persons were generated in, and written the many ways real systems write
//! them.

use crate::text::{push_padded, push_uint};

/// A bijection of `u64` (the splitmix64 finalizer): distinct inputs never collide.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `i ↦ (a·i + b) mod m` with `a` coprime to `m`: a permutation of `0..m`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Affine {
    a: u64,
    b: u64,
    m: u64,
}

impl Affine {
    pub(crate) fn new(key: u64, m: u64) -> Affine {
        let k = mix64(key);
        // A multiplier of about the modulus' size scatters neighbours far apart.
        let mut a = (m / 3 + k % (m / 3)) | 1;
        while gcd(a, m) != 1 {
            a += 2;
        }
        Affine {
            a,
            b: mix64(k) % m,
            m,
        }
    }

    pub(crate) fn apply(&self, i: u64) -> u64 {
        ((u128::from(i) * u128::from(self.a) + u128::from(self.b)) % u128::from(self.m)) as u64
    }
}

/// The first three digits of mainland mobile numbers in use.
const PREFIXES: [u16; 45] = [
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 145, 147, 149, 150, 151, 152, 153, 155, 156,
    157, 158, 159, 166, 173, 175, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189,
    191, 193, 195, 196, 197, 198, 199,
];

/// How many persons the identifier schemes can keep apart.
pub(crate) const MAX_PERSONS: u64 = 50_000_000;

/// The two junk phones some orders carry (the spec's `reject phone` list).
pub(crate) const JUNK_PHONES: [&str; 2] = ["13800000000", "00000000000"];

/// Sum of the first ten digits modulo 10: the last digit of every person's phone.
/// Changing any one digit of such a number breaks the rule, so a mistyped phone is
/// never another person's.
fn check_digit(first_ten: u64) -> u64 {
    let mut s = 0;
    let mut n = first_ten;
    while n > 0 {
        s += n % 10;
        n /= 10;
    }
    s % 10
}

#[cfg(test)]
pub(crate) fn phone_is_canonical(phone: u64) -> bool {
    check_digit(phone / 10) == phone % 10
}

/// The identifier schemes of one seed.
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    member: Affine,
    phone: Affine,
    qq: Affine,
    email: Affine,
    device_hi: u64,
    device_lo: u64,
    openid: [u64; 2],
    openid_tail: u64,
}

/// Device numbers from here on belong to nobody (anonymous media audiences).
pub(crate) const ANON_DEVICES: u64 = 1 << 60;

impl Keys {
    pub(crate) fn new(seed: u64, consumers: u64) -> Keys {
        let k = |salt: u64| mix64(seed ^ mix64(salt));
        Keys {
            member: Affine::new(k(1), 100_000_000),
            phone: Affine::new(k(2), PREFIXES.len() as u64 * 10_000_000),
            qq: Affine::new(k(3), 900_000_000),
            email: Affine::new(
                k(4),
                if consumers <= 10_000_000 {
                    10_000_000
                } else {
                    100_000_000
                },
            ),
            device_hi: k(5),
            device_lo: k(6),
            openid: [k(7), k(8)],
            openid_tail: k(9),
        }
    }

    /// The member number of person `p` (`M` and 8 digits when written).
    pub(crate) fn member(&self, p: u64) -> u64 {
        self.member.apply(p)
    }

    /// The canonical 11-digit mobile number of person `p`, unique per person.
    pub(crate) fn phone(&self, p: u64) -> u64 {
        let v = self.phone.apply(p);
        let prefix = u64::from(PREFIXES[(v / 10_000_000) as usize]);
        let first_ten = prefix * 10_000_000 + v % 10_000_000;
        first_ten * 10 + check_digit(first_ten)
    }

    /// A QQ number for person `p`, unique per person.
    pub(crate) fn qq(&self, p: u64) -> u64 {
        100_000_000 + self.qq.apply(p)
    }

    /// A number unique per person, for the local part of an e-mail address.
    pub(crate) fn email_number(&self, p: u64) -> u64 {
        self.email.apply(p)
    }

    /// The id of device number `d`: 32 hex digits in UUID groups, upper case for
    /// Apple devices (IDFA style), lower case otherwise (OAID style).
    pub(crate) fn device(&self, d: u64, apple: bool, out: &mut String) {
        let unique = mix64(d ^ self.device_hi);
        let other = mix64(d.wrapping_add(self.device_lo));
        let digits = if apple {
            b"0123456789ABCDEF"
        } else {
            b"0123456789abcdef"
        };
        let mut hex = [0u8; 32];
        for i in 0..16 {
            hex[i] = digits[((other >> (60 - 4 * i)) & 15) as usize];
            hex[16 + i] = digits[((unique >> (60 - 4 * i)) & 15) as usize];
        }
        for (i, &h) in hex.iter().enumerate() {
            if matches!(i, 8 | 12 | 16 | 20) {
                out.push('-');
            }
            out.push(char::from(h));
        }
    }

    /// Whether device number `d` is an Apple device.
    pub(crate) fn device_is_apple(&self, d: u64) -> bool {
        // Family tablets (number 2 of a person's) are iPads.
        (d < ANON_DEVICES && d % 4 == 2) || mix64(d ^ self.device_lo) % 100 < 38
    }

    /// The openid of person `p` in mini-program `app`: 28 characters, the first six
    /// shared by all users of the program as real ones are.
    pub(crate) fn openid(&self, p: u64, app: usize, out: &mut String) {
        out.push('o');
        push_base64(out, mix64(self.openid[app]), 5);
        push_base64(out, mix64(p ^ self.openid[app]), 11);
        push_base64(out, mix64(p ^ self.openid_tail ^ app as u64), 11);
    }
}

fn push_base64(out: &mut String, mut v: u64, chars: usize) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for _ in 0..chars {
        out.push(char::from(ALPHABET[(v & 63) as usize]));
        v >>= 6;
    }
}

/// Ways a phone is written. The normalizer `phone_cn` reads all of them as the
/// same 11 digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PhoneStyle {
    /// `13812345678`
    Plain,
    /// `+86 138 1234 5678`
    PlusSpaced,
    /// `+86-138-1234-5678`
    PlusDashed,
    /// `138-1234-5678`
    Dashed,
    /// `0086 13812345678`
    ZeroZero,
    /// `138 1234 5678`
    Spaced,
    /// `+8613812345678`
    PlusPlain,
    /// ` 13812345678 ` (stray spaces around)
    Padded,
}

impl PhoneStyle {
    pub(crate) const ALL: [PhoneStyle; 8] = [
        PhoneStyle::Plain,
        PhoneStyle::PlusSpaced,
        PhoneStyle::PlusDashed,
        PhoneStyle::Dashed,
        PhoneStyle::ZeroZero,
        PhoneStyle::Spaced,
        PhoneStyle::PlusPlain,
        PhoneStyle::Padded,
    ];
}

/// Writes 11-digit `phone` in `style`.
pub(crate) fn push_phone(out: &mut String, phone: u64, style: PhoneStyle) {
    let head = phone / 100_000_000;
    let mid = phone / 10_000 % 10_000;
    let tail = phone % 10_000;
    let grouped = |out: &mut String, sep: char| {
        push_uint(out, head);
        out.push(sep);
        push_padded(out, mid, 4);
        out.push(sep);
        push_padded(out, tail, 4);
    };
    match style {
        PhoneStyle::Plain => push_padded(out, phone, 11),
        PhoneStyle::PlusSpaced => {
            out.push_str("+86 ");
            grouped(out, ' ');
        }
        PhoneStyle::PlusDashed => {
            out.push_str("+86-");
            grouped(out, '-');
        }
        PhoneStyle::Dashed => grouped(out, '-'),
        PhoneStyle::ZeroZero => {
            out.push_str("0086 ");
            push_padded(out, phone, 11);
        }
        PhoneStyle::Spaced => grouped(out, ' '),
        PhoneStyle::PlusPlain => {
            out.push_str("+86");
            push_padded(out, phone, 11);
        }
        PhoneStyle::Padded => {
            out.push(' ');
            push_padded(out, phone, 11);
            out.push(' ');
        }
    }
}

/// `phone` with digit `pos` (0-based, 3..=10) replaced by the digit `by` places on.
pub(crate) fn mistype(phone: u64, pos: u32, by: u64) -> u64 {
    let weight = 10u64.pow(10 - pos);
    let digit = phone / weight % 10;
    let new = (digit + by) % 10;
    phone - digit * weight + new * weight
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_unique_mobiles_and_typos_belong_to_nobody() {
        let keys = Keys::new(42, 100_000);
        let mut seen = std::collections::HashSet::new();
        for p in 0..100_000 {
            let phone = keys.phone(p);
            let s = phone.to_string();
            assert_eq!(s.len(), 11);
            assert!(
                s.starts_with('1') && (b'3'..=b'9').contains(&s.as_bytes()[1]),
                "{s}"
            );
            assert!(phone_is_canonical(phone));
            assert!(seen.insert(phone));
            for pos in 3..=10 {
                for by in 1..10 {
                    assert!(!phone_is_canonical(mistype(phone, pos, by)));
                }
            }
        }
    }

    #[test]
    fn styles() {
        let mut s = String::new();
        for style in PhoneStyle::ALL {
            push_phone(&mut s, 13812345678, style);
            s.push('|');
        }
        assert_eq!(
            s,
            "13812345678|+86 138 1234 5678|+86-138-1234-5678|138-1234-5678|0086 13812345678|\
             138 1234 5678|+8613812345678| 13812345678 |"
        );
    }

    #[test]
    fn affine_is_a_permutation() {
        let f = Affine::new(9, 1000);
        let mut v: Vec<u64> = (0..1000).map(|i| f.apply(i)).collect();
        v.sort_unstable();
        assert!(v.iter().enumerate().all(|(i, &x)| i as u64 == x));
    }

    #[test]
    fn device_and_openid_shapes() {
        let keys = Keys::new(1, 10);
        let mut s = String::new();
        keys.device(6, true, &mut s);
        assert_eq!(s.len(), 36);
        assert_eq!(s.matches('-').count(), 4);
        let mut o = String::new();
        keys.openid(3, 0, &mut o);
        assert_eq!(o.len(), 28);
        let mut o2 = String::new();
        keys.openid(4, 0, &mut o2);
        assert_eq!(o[..6], o2[..6]);
        assert_ne!(o, o2);
    }
}
