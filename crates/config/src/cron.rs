//! Five-field cron expressions, validated the way GitHub Actions reads them.

use std::fmt;

/// A validated five-field cron expression (`minute hour day-of-month month day-of-week`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cron {
    normalized: String,
}

impl Cron {
    /// Parse and validate; the error says which field is wrong and why.
    pub fn parse(text: &str) -> Result<Cron, String> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        if let Some(first) = fields.first() {
            if first.starts_with('@') {
                return Err(format!(
                    "`{first}` shortcuts are not supported by GitHub Actions schedules; write five fields, e.g. \"0 0 * * *\" for @daily"
                ));
            }
        }
        if fields.len() != 5 {
            return Err(format!(
                "a cron expression has 5 fields (minute hour day-of-month month day-of-week), this one has {}",
                fields.len()
            ));
        }
        for (field, spec) in fields.iter().zip(SPECS.iter()) {
            check_field(field, spec).map_err(|e| format!("{} field `{field}`: {e}", spec.name))?;
        }
        Ok(Cron {
            normalized: fields.join(" "),
        })
    }

    /// The expression with single spaces between fields: what `--schedule` compares.
    pub fn as_str(&self) -> &str {
        &self.normalized
    }

    /// True when `other` is the same expression up to whitespace.
    pub fn matches_text(&self, other: &str) -> bool {
        other.split_whitespace().collect::<Vec<_>>().join(" ") == self.normalized
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normalized)
    }
}

struct Spec {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MONTHS: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

const SPECS: [Spec; 5] = [
    Spec {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
    },
    Spec {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
    },
    Spec {
        name: "day-of-month",
        min: 1,
        max: 31,
        names: &[],
    },
    Spec {
        name: "month",
        min: 1,
        max: 12,
        names: MONTHS,
    },
    Spec {
        name: "day-of-week",
        min: 0,
        max: 6,
        names: DAYS,
    },
];

fn value(text: &str, spec: &Spec) -> Result<u32, String> {
    if let Ok(n) = text.parse::<u32>() {
        // GitHub (like Vixie cron) accepts 7 as Sunday.
        let max = if spec.name == "day-of-week" {
            7
        } else {
            spec.max
        };
        if n < spec.min || n > max {
            return Err(format!("{n} is outside {}-{}", spec.min, spec.max));
        }
        return Ok(n);
    }
    let lower = text.to_ascii_lowercase();
    if let Some(i) = spec.names.iter().position(|n| *n == lower) {
        return Ok(spec.min + i as u32);
    }
    if spec.names.is_empty() {
        Err(format!("`{text}` is not a number"))
    } else {
        Err(format!(
            "`{text}` is not a number or one of {}",
            spec.names.join(", ")
        ))
    }
}

fn check_field(field: &str, spec: &Spec) -> Result<(), String> {
    for part in field.split(',') {
        if part.is_empty() {
            return Err("empty list item (two commas or a trailing comma)".into());
        }
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        if let Some(step) = step {
            match step.parse::<u32>() {
                Ok(n) if n >= 1 && n <= spec.max.max(1) => {}
                _ => {
                    return Err(format!(
                        "step `/{step}` must be a number from 1 to {}",
                        spec.max
                    ))
                }
            }
        }
        if range == "*" {
            continue;
        }
        match range.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (value(a, spec)?, value(b, spec)?);
                if a > b {
                    return Err(format!(
                        "range {a}-{b} runs backwards; write the smaller bound first"
                    ));
                }
            }
            None => {
                value(range, spec)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_github_accepts() {
        for ok in [
            "0 2 * * *",
            "*/15 * * * *",
            "0 9-17/2 * * mon-fri",
            "5,35 0 1 jan,JUL 0",
            "0 0 * * 7",
        ] {
            Cron::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn rejects_with_the_field_named() {
        let cases = [
            ("0 24 * * *", "hour field `24`: 24 is outside 0-23"),
            ("* * * *", "has 4"),
            ("61 * * * *", "minute"),
            ("0 0 0 * *", "day-of-month"),
            ("0 0 * foo *", "month field `foo`"),
            ("*/0 * * * *", "step"),
            ("0 5-3 * * *", "backwards"),
            ("@daily", "shortcuts"),
            ("0 0 1,,2 * *", "empty list item"),
        ];
        for (bad, want) in cases {
            let err = Cron::parse(bad).unwrap_err();
            assert!(err.contains(want), "{bad}: {err}");
        }
    }

    #[test]
    fn compares_up_to_whitespace() {
        let c = Cron::parse("0  2 * *   *").unwrap();
        assert_eq!(c.as_str(), "0 2 * * *");
        assert!(c.matches_text(" 0 2 * * * "));
        assert!(!c.matches_text("0 3 * * *"));
    }
}
