//! Money: stored exactly as integer minor units (cents) of the store's one currency, shown as a
//! Float with two decimals.

/// An amount in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Money(pub i64);

impl Money {
    /// The amount in major units, as shown in the API.
    pub fn as_major(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// Reads an amount in major units, rounding to the cent; refuses non-finite or huge values.
    pub fn from_major(amount: f64) -> Option<Self> {
        let cents = (amount * 100.0).round();
        (amount.is_finite() && cents.abs() < 1e15).then_some(Self(cents as i64))
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
}
