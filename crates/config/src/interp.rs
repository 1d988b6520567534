//! `${VAR}` interpolation from the environment.

/// Replace `${VAR}` (and `${VAR:-default}`) in `text` with values from `env`;
/// `$${` writes a literal `${`. Returns the text and the variables read (name,
/// value), or the name of the first unset variable.
pub fn interpolate(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, Vec<(String, String)>), InterpError> {
    let mut out = String::with_capacity(text.len());
    let mut reads = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(lit) = after.strip_prefix("${") {
            out.push_str("${");
            rest = lit;
            continue;
        }
        let Some(body_start) = after.strip_prefix('{') else {
            out.push('$');
            rest = after;
            continue;
        };
        let Some(end) = body_start.find('}') else {
            return Err(InterpError::Unclosed);
        };
        let body = &body_start[..end];
        let (name, default) = match body.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (body, None),
        };
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Err(InterpError::BadName(name.to_string()));
        }
        match env(name)
            .filter(|v| !v.is_empty())
            .or(default.map(str::to_string))
        {
            Some(v) => {
                out.push_str(&v);
                reads.push((name.to_string(), v));
            }
            None => return Err(InterpError::Unset(name.to_string())),
        }
        rest = &body_start[end + 1..];
    }
    out.push_str(rest);
    Ok((out, reads))
}

/// Why interpolation failed.
#[derive(Debug, PartialEq, Eq)]
pub enum InterpError {
    /// `${NAME}` is not set (or empty) and has no default.
    Unset(String),
    /// `${…}` holds something that is not a variable name.
    BadName(String),
    /// `${` without a closing `}`.
    Unclosed,
}

impl InterpError {
    /// Message and hint.
    pub fn explain(&self) -> (String, String) {
        match self {
            InterpError::Unset(n) => (
                format!("environment variable `{n}` is not set"),
                format!("export {n}=… before running driftsync, or write `${{{n}:-default}}` to give a default"),
            ),
            InterpError::BadName(n) => (
                format!("`${{{n}}}` is not a variable reference"),
                "variable names are letters, digits and `_`; write `$${` for a literal `${`".into(),
            ),
            InterpError::Unclosed => (
                "`${` without a closing `}`".into(),
                "close the reference: `${NAME}`, or write `$${` for a literal `${`".into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(n: &str) -> Option<String> {
        (n == "HOST").then(|| "db.example".to_string())
    }

    #[test]
    fn substitutes_and_records_reads() {
        let (s, reads) = interpolate("postgres://${HOST}/x $${LIT} $5", &env).unwrap();
        assert_eq!(s, "postgres://db.example/x ${LIT} $5");
        assert_eq!(reads, [("HOST".to_string(), "db.example".to_string())]);
        assert_eq!(interpolate("${NOPE:-d}", &env).unwrap().0, "d");
    }

    #[test]
    fn unset_and_malformed_are_errors() {
        assert_eq!(
            interpolate("${NOPE}", &env).unwrap_err(),
            InterpError::Unset("NOPE".into())
        );
        assert_eq!(
            interpolate("${a b}", &env).unwrap_err(),
            InterpError::BadName("a b".into())
        );
        assert_eq!(
            interpolate("${HOST", &env).unwrap_err(),
            InterpError::Unclosed
        );
    }
}
