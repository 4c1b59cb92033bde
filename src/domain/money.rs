//! Money: stored exactly as integer minor units (cents) of the store's one currency, shown as a
//! Float with two decimals.
//!
//! Amounts are bounded: an amount, and a customer's total of orders, is at most
//! [`MAX_MAJOR`] (100 billion) currency units. At that size every amount in cents is exactly a
//! JSON double and prints as its two decimals (no exponent, no float artefacts), and even a full
//! batch of the largest orders added to the largest total stays far inside PostgreSQL's
//! `bigint`.

/// The largest amount, and the largest total of a customer's orders, in minor units (10^13).
pub const MAX_CENTS: i64 = 10_000_000_000_000;
/// [`MAX_CENTS`] in major units, as the API states the limit (100,000,000,000).
pub const MAX_MAJOR: i64 = MAX_CENTS / 100;

/// An amount in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Money(pub i64);

impl Money {
    /// The amount in major units, as shown in the API.
    pub fn as_major(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// Reads an amount in major units, rounding to the cent; refuses non-finite values and
    /// amounts beyond ±[`MAX_MAJOR`].
    pub fn from_major(amount: f64) -> Option<Self> {
        let cents = (amount * 100.0).round();
        (amount.is_finite() && cents.abs() <= MAX_CENTS as f64).then_some(Self(cents as i64))
    }

    /// The refusal of an amount [`Money::from_major`] does not read, in words.
    pub fn limit_message() -> String {
        format!("must be a finite amount of at most {MAX_MAJOR} (100 billion) in absolute value")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_exactly_at_two_decimals() {
        assert_eq!(Money::from_major(289.0), Some(Money(28900)));
        assert_eq!(Money::from_major(0.1 + 0.2), Some(Money(30)));
        assert_eq!(Money(1284000).as_major(), 12840.0);
        assert_eq!(Money::from_major(f64::NAN), None);
        assert_eq!(Money::from_major(1e20), None);
    }

    #[test]
    fn the_limit_is_inclusive() {
        assert_eq!(Money::from_major(MAX_MAJOR as f64), Some(Money(MAX_CENTS)));
        assert_eq!(Money::from_major(-(MAX_MAJOR as f64)), Some(Money(-MAX_CENTS)));
        assert_eq!(Money::from_major(MAX_MAJOR as f64 + 0.01), None);
    }

    #[test]
    fn amounts_up_to_the_limit_print_as_their_two_decimals() {
        for (cents, text) in [(MAX_CENTS, "100000000000.0"), (MAX_CENTS - 1, "99999999999.99"), (1, "0.01"), (987_654_321_012, "9876543210.12")] {
            assert_eq!(serde_json::to_string(&Money(cents).as_major()).unwrap(), text);
        }
        // every cent near the top reads back as itself
        for cents in (MAX_CENTS - 10_000)..=MAX_CENTS {
            assert_eq!(Money::from_major(Money(cents).as_major()), Some(Money(cents)));
        }
    }

    #[test]
    fn the_largest_batch_onto_the_largest_total_fits_bigint() {
        let batch = crate::domain::activity::MAX_BATCH as i64;
        assert!(MAX_CENTS.checked_mul(batch + 1).is_some());
        assert!(MAX_CENTS < 1 << 53);
    }
}
