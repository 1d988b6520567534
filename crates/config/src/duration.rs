//! Durations written like `90s`, `20m`, `1h30m`, `500ms`.

use std::time::Duration;

/// Parse a duration: one or more `<number><unit>` pairs, units `ms`, `s`, `m`, `h`, `d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let hint = "write a number with a unit, e.g. `90s`, `20m`, `1h30m` (units: ms, s, m, h, d)";
    let t = text.trim();
    if t.is_empty() {
        return Err(format!("empty duration; {hint}"));
    }
    let mut total = Duration::ZERO;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("`{text}` is not a duration; {hint}"));
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{text}`: number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let d = match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n * 60),
            "h" => Duration::from_secs(n * 3600),
            "d" => Duration::from_secs(n * 86400),
            "" => return Err(format!("`{text}` has no unit; {hint}")),
            other => {
                return Err(format!(
                    "unknown unit `{}` in `{text}`; {hint}",
                    other.trim()
                ))
            }
        };
        total += d;
    }
    if total.is_zero() {
        return Err(format!("`{text}` is zero; a timeout must be positive"));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_compounds() {
        assert_eq!(parse_duration("20m").unwrap(), Duration::from_secs(1200));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
    }

    #[test]
    fn rejects_with_a_hint() {
        for bad in ["20", "ten minutes", "5 mins", "0s", "", "m5"] {
            let e = parse_duration(bad).unwrap_err();
            assert!(e.contains('`') || e.contains("empty"), "{bad}: {e}");
        }
    }
}
