//! Migration file names: which convention a directory follows, each file's
//! version, and the names that break it.
//!
//! Three conventions are recognised:
//!
//! - **timestamp** (Supabase CLI, `supabase migration new`):
//!   `20240105090000_create_properties.sql`, 14 digits `YYYYMMDDHHMMSS` that
//!   form a real date and time, `_`, a name;
//! - **flyway**: `V1__init.sql`, `V1.2__add_users.sql` (`.` or `_` between
//!   version parts), plus repeatable `R__name.sql` (no version);
//! - **numbered** (Rails-less sequences, sqlx, dbmate-style counters):
//!   `0001_init.sql`, digits other than a 14-digit timestamp, `_`, a name.
//!
//! The directory's convention is the one most of its `.sql` files follow
//! (ties: timestamp, then numbered, then flyway). Every other file is
//! reported: tools that expect the convention skip such a file silently
//! (the Supabase CLI) or refuse to run (Flyway).

use std::cmp::Ordering;

use serde::Serialize;

/// A naming convention.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Convention {
    /// `YYYYMMDDHHMMSS_name.sql` (Supabase).
    Timestamp,
    /// `V<version>__name.sql` and `R__name.sql` (Flyway).
    Flyway,
    /// `<digits>_name.sql`.
    Numbered,
}

impl Convention {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Convention::Timestamp => "timestamp",
            Convention::Flyway => "flyway",
            Convention::Numbered => "numbered",
        }
    }

    /// The pattern, for messages.
    pub fn pattern(self) -> &'static str {
        match self {
            Convention::Timestamp => "YYYYMMDDHHMMSS_name.sql",
            Convention::Flyway => "V<version>__name.sql",
            Convention::Numbered => "<number>_name.sql",
        }
    }
}

/// A migration's version, compared numerically part by part (`V1.10` after
/// `V1.9`, `0002` equal to `2`, `V1.0` equal to `V1`).
#[derive(Clone, Debug, Eq)]
pub struct Version {
    /// As written in the name.
    pub text: String,
    parts: Vec<u128>,
}

impl Version {
    fn new(text: &str) -> Option<Version> {
        let mut parts = text
            .split(['.', '_'])
            .map(|p| p.parse::<u128>().ok())
            .collect::<Option<Vec<_>>>()?;
        while parts.len() > 1 && parts.last() == Some(&0) {
            parts.pop();
        }
        Some(Version {
            text: text.to_string(),
            parts,
        })
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.parts == other.parts
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts.cmp(&other.parts)
    }
}

/// What a file name says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Name {
    /// It follows `convention`; `version` is `None` for Flyway's repeatable
    /// migrations.
    Follows {
        /// The convention.
        convention: Convention,
        /// Its version.
        version: Option<Version>,
    },
    /// A 14-digit prefix that is no date and time (`20241301…`).
    BadTimestamp {
        /// The prefix.
        prefix: String,
    },
    /// No convention at all.
    Unrecognised,
}

/// Read a `.sql` file name.
pub fn classify(file_name: &str) -> Name {
    let Some(stem) = file_name.strip_suffix(".sql") else {
        return Name::Unrecognised;
    };
    if let Some(rest) = stem.strip_prefix('V') {
        if let Some((version, name)) = rest.split_once("__") {
            if !name.is_empty() && version.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                if let Some(version) = Version::new(version) {
                    return Name::Follows {
                        convention: Convention::Flyway,
                        version: Some(version),
                    };
                }
            }
        }
        return Name::Unrecognised;
    }
    if let Some(name) = stem.strip_prefix("R__") {
        if !name.is_empty() {
            return Name::Follows {
                convention: Convention::Flyway,
                version: None,
            };
        }
        return Name::Unrecognised;
    }
    let digits = stem.chars().take_while(char::is_ascii_digit).count();
    let (prefix, rest) = stem.split_at(digits);
    let named = rest.strip_prefix('_').is_some_and(|n| !n.is_empty());
    if digits == 0 || !named {
        return Name::Unrecognised;
    }
    let version = Version::new(prefix);
    if digits == 14 {
        if !is_timestamp(prefix) {
            return Name::BadTimestamp {
                prefix: prefix.to_string(),
            };
        }
        return Name::Follows {
            convention: Convention::Timestamp,
            version,
        };
    }
    Name::Follows {
        convention: Convention::Numbered,
        version,
    }
}

/// `YYYYMMDDHHMMSS` naming a real moment (UTC, no leap seconds).
fn is_timestamp(s: &str) -> bool {
    let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(u32::MAX);
    let (y, mo, d, h, mi, se) = (n(0..4), n(4..6), n(6..8), n(8..10), n(10..12), n(12..14));
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    y >= 1970 && (1..=days).contains(&d) && h < 24 && mi < 60 && se < 60
}

/// The convention most names follow (ties: timestamp, numbered, flyway);
/// `None` when no name follows any.
pub fn detect<'a>(names: impl IntoIterator<Item = &'a Name>) -> Option<Convention> {
    let mut counts = [0usize; 3];
    let order = [
        Convention::Timestamp,
        Convention::Numbered,
        Convention::Flyway,
    ];
    for n in names {
        let c = match n {
            Name::Follows { convention, .. } => *convention,
            Name::BadTimestamp { .. } => Convention::Timestamp,
            Name::Unrecognised => continue,
        };
        counts[order.iter().position(|o| *o == c).unwrap_or(0)] += 1;
    }
    let best = *counts.iter().max()?;
    if best == 0 {
        return None;
    }
    order
        .iter()
        .zip(counts)
        .find(|(_, n)| *n == best)
        .map(|(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(name: &str) -> Option<String> {
        match classify(name) {
            Name::Follows { version, .. } => version.map(|v| v.text),
            _ => None,
        }
    }

    #[test]
    fn recognises_the_three_conventions() {
        let conv = |n: &str| match classify(n) {
            Name::Follows { convention, .. } => Some(convention),
            _ => None,
        };
        assert_eq!(
            conv("20240105090000_create.sql"),
            Some(Convention::Timestamp)
        );
        assert_eq!(conv("V1__init.sql"), Some(Convention::Flyway));
        assert_eq!(conv("V1.2_3__more.sql"), Some(Convention::Flyway));
        assert_eq!(conv("R__views.sql"), Some(Convention::Flyway));
        assert_eq!(conv("0001_init.sql"), Some(Convention::Numbered));
        assert_eq!(version("V1.2__x.sql").as_deref(), Some("1.2"));
        for bad in [
            "init.sql",
            "V__x.sql",
            "Vx__y.sql",
            "0001.sql",
            "0001_.sql",
            "R__.sql",
            "1_x.txt",
        ] {
            assert_eq!(classify(bad), Name::Unrecognised, "{bad}");
        }
        assert_eq!(
            classify("20241301000000_bad_month.sql"),
            Name::BadTimestamp {
                prefix: "20241301000000".into()
            }
        );
        assert!(matches!(
            classify("20240229235959_leap.sql"),
            Name::Follows { .. }
        ));
        assert!(matches!(
            classify("20230229000000_no_leap.sql"),
            Name::BadTimestamp { .. }
        ));
    }

    #[test]
    fn versions_compare_as_numbers() {
        let v = |s: &str| Version::new(s).unwrap();
        assert!(v("1.10") > v("1.9"));
        assert_eq!(v("0002"), v("2"));
        assert_eq!(v("1.0"), v("1"));
        assert_eq!(v("1_2"), v("1.2"));
    }

    #[test]
    fn the_majority_decides_the_convention() {
        let names: Vec<Name> = ["V1__a.sql", "0001_b.sql", "0002_c.sql", "x.sql"]
            .iter()
            .map(|n| classify(n))
            .collect();
        assert_eq!(detect(&names), Some(Convention::Numbered));
        let tie: Vec<Name> = ["V1__a.sql", "20240101000000_b.sql"]
            .iter()
            .map(|n| classify(n))
            .collect();
        assert_eq!(detect(&tie), Some(Convention::Timestamp));
        assert_eq!(detect(&[Name::Unrecognised]), None);
    }
}
