//! An exact fast path for the plain decimal numbers that make up almost all
//! of a data file (`8979.123`, `-1.5e-3`, `.8786204E+04`).
//!
//! It is Clinger's fast path, the one `str::parse::<f64>` itself starts
//! with: when the decimal digits form an integer `w ≤ 2^53` and the power of
//! ten `q` is within ±22, both `w` and `10^|q|` are exact doubles, so the one
//! IEEE multiplication or division `w·10^q` is the correctly rounded value,
//! bit for bit what `parse` returns. Anything else (more than 19 digits,
//! larger exponents, `inf`, Fortran `D` exponents, junk) returns `None` and
//! the caller uses `str::parse` as before, so results never change; only
//! the per-token overhead of the general parser is saved.

/// 10^0 ..= 10^22, all exactly representable.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Largest mantissa that converts to f64 exactly.
const MAX_EXACT: u64 = 1 << 53;

/// Accumulate the leading ASCII digits of `s` into `w` (wrapping: the
/// caller rejects more than 19 digits); returns how many there were.
#[inline(always)]
fn digits(s: &[u8], w: &mut u64) -> usize {
    let mut rest = s;
    while let [c, tail @ ..] = rest {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        *w = w.wrapping_mul(10).wrapping_add(u64::from(d));
        rest = tail;
    }
    s.len() - rest.len()
}

/// `[+-]digits[.digits][(e|E)[+-]digits]` to f64 when the fast path is
/// exact; `None` means "ask `str::parse`", never "not a number".
#[inline]
pub(crate) fn parse_simple(b: &[u8]) -> Option<f64> {
    match parse_prefix(b) {
        Some((v, n)) if n == b.len() => Some(v),
        _ => None,
    }
}

/// The longest number at the start of `b` in the form [`parse_simple`]
/// takes, with the count of bytes it spans, when the fast path is exact for
/// it. The caller must check what follows: the value is only the token's
/// value if the token ends there.
// Inlined into the scanners' loops: the call and the tuple return were a
// tenth of the cost of a short token.
#[inline(always)]
pub(crate) fn parse_prefix(b: &[u8]) -> Option<(f64, usize)> {
    let mut i = 0;
    let neg = match b.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let mut w: u64 = 0;
    let int_digits = digits(b.get(i..)?, &mut w);
    i += int_digits;
    let mut ndig = int_digits;
    let mut frac = 0usize;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac = digits(b.get(i..)?, &mut w);
        i += frac;
        ndig += frac;
    }
    // 19 digits always fit in a u64 (10^19 - 1 < 2^64).
    if ndig == 0 || ndig > 19 || w > MAX_EXACT {
        return None;
    }
    let mut e: i64 = 0;
    if let Some(&c) = b.get(i)
        && (c | 0x20) == b'e'
    {
        let mut j = i + 1;
        let eneg = match b.get(j) {
            Some(b'-') => {
                j += 1;
                true
            }
            Some(b'+') => {
                j += 1;
                false
            }
            _ => false,
        };
        let exp_start = j;
        while let Some(&c) = b.get(j) {
            let d = c.wrapping_sub(b'0');
            if d > 9 || j - exp_start >= 4 {
                break;
            }
            e = e * 10 + i64::from(d);
            j += 1;
        }
        // `1e` or `1e+` is not a number: the prefix then ends before the
        // `e`, and the caller sees the `e` is not a token end.
        if j > exp_start {
            i = j;
            if eneg {
                e = -e;
            }
        } else {
            e = 0;
        }
    }
    let q = e - frac as i64;
    let v = w as f64;
    let v = if q >= 0 {
        v * *POW10.get(usize::try_from(q).ok()?)?
    } else {
        v / *POW10.get(usize::try_from(-q).ok()?)?
    };
    Some((if neg { -v } else { v }, i))
}

#[cfg(test)]
mod tests {
    use super::parse_simple;

    /// Every accepted token gives exactly the bits `str::parse` gives.
    #[test]
    fn agrees_with_std_bit_for_bit() {
        let mut toks: Vec<String> = [
            "0",
            "-0",
            "+0",
            "-0.0",
            "0.",
            ".5",
            "-.5",
            "+.5e-3",
            "1e5",
            "1E+05",
            "1e-22",
            "1e22",
            "1e23",
            "9007199254740992",
            "9007199254740993",
            "1234567890123456789",
            "12345678901234567890",
            ".8786204E+04",
            "8979.123",
            "1.7976931348623157e308",
            "4.9e-324",
            "1e",
            "e5",
            ".",
            "-",
            "+-1",
            "1.2.3",
            "1e5.0",
            "0x10",
            "inf",
            "NaN",
            "1d5",
            "1,2",
            " 1",
            "1 ",
            "00000000000000000001.5",
            "1e0001",
            "1e00001",
            "123.456e-10",
            "0.1",
            "0.2",
            "0.3",
            "2.2250738585072014e-308",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // A deterministic spread of mantissas and exponents.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = (x % 20) as usize + 1;
            let m = format!("{}", x >> 3);
            let m = &m[..digits.min(m.len())];
            let dot = (x >> 40) as usize % (m.len() + 1);
            let e = ((x >> 48) % 61) as i64 - 30;
            let sign = if x & 1 == 1 { "-" } else { "" };
            let exp = if x & 2 == 2 {
                format!("e{e}")
            } else {
                String::new()
            };
            toks.push(format!("{sign}{}.{}{exp}", &m[..dot], &m[dot..]));
        }
        for t in &toks {
            if let Some(v) = parse_simple(t.as_bytes()) {
                let s = t.parse::<f64>();
                assert_eq!(s.map(f64::to_bits), Ok(v.to_bits()), "{t}");
            }
        }
        assert_eq!(parse_simple(b"8979.123"), Some(8979.123));
        assert!(parse_simple(b"1d5").is_none());
    }
}
