//! Names of the streaming API's disconnect codes, as its documentation lists them.

/// The documented name of a disconnect code; `"Unknown"` for codes the documentation does not
/// list (the API may add codes without warning, so they are kept, not refused).
pub fn disconnect_code_name(code: i64) -> &'static str {
    match code {
        1 => "Shutdown",
        2 => "Duplicate stream",
        3 => "Control request",
        4 => "Stall",
        5 => "Normal",
        6 => "Token revoked",
        7 => "Admin logout",
        8 => "Reserved",
        9 => "Max message limit",
        10 => "Stream exception",
        11 => "Broker stall",
        12 => "Shed load",
        _ => "Unknown",
    }
}

/// A withheld-in country code: two upper-case ASCII letters (ISO 3166-1 alpha-2 as the API sends
/// them), the API's `XX` (all countries) and `XY` (a DMCA claim) included; `None` for anything
/// else. Nothing is guessed: `de` is not `DE`, since a code the API never sends says the line is
/// not what it claims to be.
pub fn country_code(code: &str) -> Option<String> {
    (code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase())).then(|| code.to_owned())
}

/// Valid codes, sorted and unique, so that repeated notices compare equal; the first
/// invalid code is the error.
pub fn country_codes<S: AsRef<str>>(codes: &[S]) -> Result<Vec<String>, String> {
    let mut out = codes
        .iter()
        .map(|c| country_code(c.as_ref()).ok_or_else(|| c.as_ref().to_owned()))
        .collect::<Result<Vec<_>, _>>()?;
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_are_two_upper_case_letters() {
        assert_eq!(country_code("DE").as_deref(), Some("DE"));
        assert_eq!(country_code("XX").as_deref(), Some("XX"));
        assert_eq!(country_code("XY").as_deref(), Some("XY"));
        for bad in [
            "", "D", "DEU", "D1", " D", "de", "De", "xy", "É", "ÉÉ", "\u{0}E",
        ] {
            assert_eq!(country_code(bad), None, "{bad:?}");
        }
        assert_eq!(
            country_codes(&["FR", "DE", "FR"]),
            Ok(vec!["DE".into(), "FR".into()])
        );
        assert_eq!(country_codes(&["DE", "D1"]), Err("D1".into()));
    }
}
