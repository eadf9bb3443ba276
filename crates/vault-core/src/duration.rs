//! ISO 8601 durations for `expiringWithin` (`P30D`, `PT12H`, `P1W`, `P1DT6H`).

use time::Duration;

use crate::validation::FieldError;

/// Parses the day-and-time subset of ISO 8601 durations: weeks, days, hours, minutes and
/// whole seconds. Years and months are refused because their length depends on the date.
///
/// # Errors
/// When the text is not such a duration, or exceeds ten years.
pub fn parse_iso8601_duration(field: &str, raw: &str) -> Result<Duration, FieldError> {
    let invalid = || {
        FieldError::new(
            field,
            "must be an ISO 8601 duration in weeks, days, hours, minutes or seconds, e.g. P30D or PT12H",
        )
    };
    let rest = raw.strip_prefix('P').ok_or_else(invalid)?;
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut seconds: i64 = 0;
    let mut in_time = false;
    let mut number = String::new();
    let mut units = 0;
    for c in rest.chars() {
        match c {
            '0'..='9' => number.push(c),
            'T' if !in_time && number.is_empty() => in_time = true,
            unit => {
                let n: i64 = number.parse().map_err(|_| invalid())?;
                number.clear();
                let scale = match (in_time, unit) {
                    (false, 'W') => 7 * 86_400,
                    (false, 'D') => 86_400,
                    (true, 'H') => 3_600,
                    (true, 'M') => 60,
                    (true, 'S') => 1,
                    _ => return Err(invalid()),
                };
                seconds = n
                    .checked_mul(scale)
                    .and_then(|s| seconds.checked_add(s))
                    .ok_or_else(invalid)?;
                units += 1;
            }
        }
    }
    if !number.is_empty() || units == 0 {
        return Err(invalid());
    }
    const TEN_YEARS: i64 = 3_653 * 86_400;
    if seconds > TEN_YEARS {
        return Err(FieldError::new(field, "must be at most ten years"));
    }
    Ok(Duration::seconds(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        let p = |s| parse_iso8601_duration("d", s).map(|d| d.whole_seconds());
        assert_eq!(p("P30D"), Ok(30 * 86_400));
        assert_eq!(p("P1W"), Ok(7 * 86_400));
        assert_eq!(p("PT12H"), Ok(12 * 3_600));
        assert_eq!(p("P1DT6H30M15S"), Ok(86_400 + 6 * 3_600 + 30 * 60 + 15));
        assert_eq!(p("PT0S"), Ok(0));
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "P",
            "PT",
            "30D",
            "P1Y",
            "P1M",
            "PT1D",
            "P1H",
            "P-1D",
            "P1.5D",
            "P1D2",
            "P99999999999999W",
        ] {
            assert!(parse_iso8601_duration("d", bad).is_err(), "{bad} accepted");
        }
    }
}
