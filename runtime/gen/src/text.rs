//! Writing numbers, times and fields into text without the formatting machinery
//! (tens of millions of rows go through here).

pub(crate) fn push_uint(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

/// `n` with leading zeros to at least `width` digits.
pub(crate) fn push_padded(out: &mut String, n: u64, width: usize) {
    let mut digits = 1;
    let mut m = n;
    while m >= 10 {
        m /= 10;
        digits += 1;
    }
    for _ in digits..width {
        out.push('0');
    }
    push_uint(out, n);
}

/// `x` with exactly `decimals` decimals.
pub(crate) fn push_fixed(out: &mut String, x: f64, decimals: u32) {
    let scale = 10u64.pow(decimals);
    let v = (x.abs() * scale as f64).round() as u64;
    if x < 0.0 && v != 0 {
        out.push('-');
    }
    push_uint(out, v / scale);
    if decimals > 0 {
        out.push('.');
        push_padded(out, v % scale, decimals as usize);
    }
}

/// `HH:MM:SS` of a second of the day.
pub(crate) fn push_clock(out: &mut String, second_of_day: u32) {
    let s = u64::from(second_of_day);
    push_padded(out, s / 3600, 2);
    out.push(':');
    push_padded(out, s / 60 % 60, 2);
    out.push(':');
    push_padded(out, s % 60, 2);
}

/// A CSV field, quoted when it has to be.
pub(crate) fn push_csv(out: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        for c in field.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// A JSON string literal.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                let v = c as u32;
                out.push(char::from(b"0123456789abcdef"[(v >> 4) as usize]));
                out.push(char::from(b"0123456789abcdef"[(v & 15) as usize]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let mut s = String::new();
        push_uint(&mut s, 0);
        s.push(' ');
        push_uint(&mut s, 18_446_744_073_709_551_615);
        s.push(' ');
        push_padded(&mut s, 42, 5);
        s.push(' ');
        push_fixed(&mut s, -31.2646, 6);
        s.push(' ');
        push_fixed(&mut s, 0.05, 1);
        s.push(' ');
        push_clock(&mut s, 86_399);
        assert_eq!(s, "0 18446744073709551615 00042 -31.264600 0.1 23:59:59");
    }

    #[test]
    fn quoting() {
        let mut s = String::new();
        push_csv(&mut s, "a,\"b\"");
        s.push(' ');
        push_json_str(&mut s, "北欧\"\\\u{1}");
        assert_eq!(s, "\"a,\"\"b\"\"\" \"北欧\\\"\\\\\\u0001\"");
    }
}
