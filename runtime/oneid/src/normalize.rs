//! Identifier normalizers: raw text in, the canonical value or `None` (unusable) out.
//!
//! | normalizer   | keeps | gives |
//! |--------------|-------|-------|
//! | `phone_cn`   | a mainland mobile number written with `+86`, `0086`, `86`, spaces, dashes, dots or brackets | the 11 digits, `1[3-9]xxxxxxxxx` |
//! | `email`      | `local@domain.tld` with surrounding spaces and any case | lowercase, trimmed |
//! | `trim`       | any text | the text without surrounding whitespace |
//! | `trim_lower` | any text | trimmed and lowercase |
//! | (none)       | any text | trimmed, as `trim` |
//!
//! Every normalizer turns empty text into `None`, so blanks never link records.

use std::borrow::Cow;

/// A normalizer of the standard library.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normalizer {
    PhoneCn,
    Email,
    Trim,
    TrimLower,
}

impl Normalizer {
    /// The normalizer a spec names (`normalize phone_cn`); `None` for an unknown name.
    pub fn by_name(name: &str) -> Option<Normalizer> {
        Some(match name {
            "phone_cn" => Normalizer::PhoneCn,
            "email" => Normalizer::Email,
            "trim" => Normalizer::Trim,
            "trim_lower" => Normalizer::TrimLower,
            _ => return None,
        })
    }

    /// The normalized value, `None` when unusable: a part of `raw` when normalizing
    /// only trims it, else written into `buf` (a buffer kept between calls).
    pub fn normalize<'a>(self, raw: &'a str, buf: &'a mut String) -> Option<&'a str> {
        match self {
            Normalizer::PhoneCn => return phone_into(raw, buf).then_some(buf.as_str()),
            Normalizer::Trim => return non_empty(trim(raw)),
            _ => {}
        }
        match self.apply(raw)? {
            Cow::Borrowed(v) => Some(v),
            Cow::Owned(v) => {
                *buf = v;
                Some(buf.as_str())
            }
        }
    }

    pub fn apply<'a>(self, raw: &'a str) -> Option<Cow<'a, str>> {
        match self {
            Normalizer::PhoneCn => phone_cn(raw).map(Cow::Owned),
            Normalizer::Email => email(raw),
            Normalizer::Trim => non_empty(trim(raw)).map(Cow::Borrowed),
            Normalizer::TrimLower => {
                let t = non_empty(trim(raw))?;
                Some(if t.chars().any(char::is_uppercase) {
                    Cow::Owned(t.to_lowercase())
                } else {
                    Cow::Borrowed(t)
                })
            }
        }
    }
}

/// `str::trim`, answered without decoding characters when the text begins and ends
/// with a visible ASCII character, as identifiers almost always do.
pub(crate) fn trim(s: &str) -> &str {
    match s.as_bytes() {
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => s,
        [only] if only.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// A mainland China mobile number: 11 digits starting with 13–19, after removing the
/// country code (`+86`, `0086`, `86`) and separators. Anything else (landlines,
/// letters, too few digits) is `None`.
pub fn phone_cn(raw: &str) -> Option<String> {
    let mut out = String::new();
    phone_into(raw, &mut out).then_some(out)
}

fn phone_into(raw: &str, digits: &mut String) -> bool {
    digits.clear();
    for c in raw.chars() {
        match c {
            '0'..='9' => digits.push(c),
            // Full-width digits, as typed on some Chinese keyboards.
            '０'..='９' => digits.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
            ' ' | '-' | '.' | '(' | ')' | '+' | '\u{3000}' | '\t' => {}
            _ => return false,
        }
    }
    // An international prefix other than China's is another country's number.
    let international = raw.trim_start().starts_with('+') || digits.starts_with("00");
    if international && !(digits.starts_with("86") || digits.starts_with("0086")) {
        return false;
    }
    let skip = if digits.len() == 15 && digits.starts_with("0086") {
        4
    } else if digits.len() == 13 && digits.starts_with("86") {
        2
    } else {
        0
    };
    digits.drain(..skip);
    let b = digits.as_bytes();
    b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1])
}

/// An e-mail address, trimmed and lowercased; `None` unless it has one `@` with text
/// before it and a dotted domain after it.
pub fn email(raw: &str) -> Option<Cow<'_, str>> {
    let t = trim(raw);
    let (local, domain) = t.split_once('@')?;
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || t.contains(char::is_whitespace)
    {
        return None;
    }
    Some(if t.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(t.to_ascii_lowercase())
    } else {
        Cow::Borrowed(t)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_written_every_way_agree() {
        for raw in [
            "13812345678",
            "+86 138 1234 5678",
            "+86-138-1234-5678",
            "0086 13812345678",
            "86 13812345678",
            "138-1234-5678",
            " (138) 1234.5678 ",
            "１３８１２３４５６７８",
        ] {
            assert_eq!(phone_cn(raw).as_deref(), Some("13812345678"), "{raw}");
        }
    }

    #[test]
    fn phones_that_are_not_mobiles_are_unusable() {
        for raw in [
            "",
            "   ",
            "1381234567",
            "138123456789",
            "12812345678",
            "021-6123-4567",
            "1381234567x",
            "+1 415 555 0100",
        ] {
            assert_eq!(phone_cn(raw), None, "{raw}");
        }
    }

    #[test]
    fn emails_lose_case_and_spaces() {
        assert_eq!(
            email("  Li.Wei@Example.COM ").as_deref(),
            Some("li.wei@example.com")
        );
        assert_eq!(email("a@b.cn").as_deref(), Some("a@b.cn"));
        for bad in [
            "",
            "li.wei",
            "@example.com",
            "a@b",
            "a@@b.cn",
            "a b@c.cn",
            "a@.cn",
        ] {
            assert_eq!(email(bad), None, "{bad}");
        }
    }

    #[test]
    fn trim_and_lower() {
        assert_eq!(Normalizer::Trim.apply("  ab ").as_deref(), Some("ab"));
        assert_eq!(Normalizer::Trim.apply("   "), None);
        assert_eq!(Normalizer::TrimLower.apply(" AbC ").as_deref(), Some("abc"));
        assert_eq!(Normalizer::by_name("phone_cn"), Some(Normalizer::PhoneCn));
        assert_eq!(Normalizer::by_name("nope"), None);
    }

    #[test]
    fn normalize_agrees_with_apply_and_borrows_trimmed_text() {
        let mut buf = String::new();
        for n in [
            Normalizer::PhoneCn,
            Normalizer::Email,
            Normalizer::Trim,
            Normalizer::TrimLower,
        ] {
            for raw in ["", "  ", " 138-1234-5678 ", " Li@Ex.COM ", "dev-1", " AbC "] {
                let want = n.apply(raw).map(|v| v.into_owned());
                assert_eq!(
                    n.normalize(raw, &mut buf).map(str::to_owned),
                    want,
                    "{n:?} {raw:?}"
                );
            }
        }
        let raw = "  dev-1 ";
        let v = Normalizer::Trim.normalize(raw, &mut buf).unwrap();
        assert!(
            std::ptr::eq(v.as_ptr(), raw[2..].as_ptr()),
            "trimmed text is not copied"
        );
    }

    #[test]
    fn fast_trim_agrees_with_str_trim() {
        for raw in [
            "",
            "a",
            " ",
            "ab",
            " a",
            "a ",
            "a\t",
            "\u{3000}a",
            "a\u{3000}",
            "\u{a0}ab\u{a0}",
            "a\u{85}",
            "设备",
            " 设备 ",
            "a设b",
            "\u{1f}a\u{1f}",
            "\x0bA\x0b",
            "x y",
        ] {
            assert_eq!(trim(raw), raw.trim(), "{raw:?}");
        }
    }
}
