//! RFM scores: 1–5 quintiles among the store's customers with at least one order (more recent,
//! more orders, more spent → higher), and the named segment of the R × F grid (SPEC §7).
//!
//! Breakpoints are the 20th, 40th, 60th and 80th percentiles (discrete) of each value; a score is
//! 1 plus the number of breakpoints the value exceeds, so equal values always get equal scores.

use chrono::{DateTime, Utc};

/// A store's quintile breakpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakpoints {
    /// Percentiles of the time of the latest order.
    pub recency: [DateTime<Utc>; 4],
    /// Percentiles of the number of orders.
    pub frequency: [i32; 4],
    /// Percentiles of the amount spent (minor units).
    pub monetary: [i64; 4],
}

/// The named segments of the R × F grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RfmSegment {
    Champion,
    Loyal,
    PotentialLoyalist,
    New,
    Promising,
    NeedAttention,
    AboutToSleep,
    AtRisk,
    CantLose,
    Hibernating,
}

impl RfmSegment {
    /// The segment of an R and F score (each 1–5).
    pub fn of(r: u8, f: u8) -> Self {
        match (r, f) {
            (1..=2, 1..=2) => Self::Hibernating,
            (1..=2, 3..=4) => Self::AtRisk,
            (1..=2, _) => Self::CantLose,
            (3, 1..=2) => Self::AboutToSleep,
            (3, 3) => Self::NeedAttention,
            (3..=4, 4..=5) => Self::Loyal,
            (4, 1) => Self::Promising,
            (4..=5, 2..=3) => Self::PotentialLoyalist,
            (5, 1) => Self::New,
            _ => Self::Champion,
        }
    }

    /// The segment's name as SPEC §7 spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Champion => "champion",
            Self::Loyal => "loyal",
            Self::PotentialLoyalist => "potential_loyalist",
            Self::New => "new",
            Self::Promising => "promising",
            Self::NeedAttention => "need_attention",
            Self::AboutToSleep => "about_to_sleep",
            Self::AtRisk => "at_risk",
            Self::CantLose => "cant_lose",
            Self::Hibernating => "hibernating",
        }
    }
}

/// A customer's scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RfmScores {
    pub recency: u8,
    pub frequency: u8,
    pub monetary: u8,
    pub segment: RfmSegment,
}

fn quintile<T: PartialOrd>(value: &T, breakpoints: &[T; 4]) -> u8 {
    1 + breakpoints.iter().filter(|b| value > *b).count() as u8
}

/// Scores a customer with at least one order.
pub fn score(breakpoints: &Breakpoints, last_order_at: DateTime<Utc>, total_orders: i32, total_spent: i64) -> RfmScores {
    let recency = quintile(&last_order_at, &breakpoints.recency);
    let frequency = quintile(&total_orders, &breakpoints.frequency);
    RfmScores { recency, frequency, monetary: quintile(&total_spent, &breakpoints.monetary), segment: RfmSegment::of(recency, frequency) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn the_grid_covers_every_pair_as_specified() {
        let expect = |r: u8, f: u8, name: &str| assert_eq!(RfmSegment::of(r, f).name(), name, "R{r} F{f}");
        for r in 1..=2 {
            expect(r, 1, "hibernating");
            expect(r, 2, "hibernating");
            expect(r, 3, "at_risk");
            expect(r, 4, "at_risk");
            expect(r, 5, "cant_lose");
        }
        expect(3, 1, "about_to_sleep");
        expect(3, 2, "about_to_sleep");
        expect(3, 3, "need_attention");
        expect(3, 4, "loyal");
        expect(4, 5, "loyal");
        expect(4, 1, "promising");
        expect(5, 1, "new");
        expect(4, 2, "potential_loyalist");
        expect(5, 3, "potential_loyalist");
        expect(5, 4, "champion");
        expect(5, 5, "champion");
    }

    #[test]
    fn equal_values_get_equal_scores() {
        let b = Breakpoints { recency: [day(2), day(4), day(6), day(8)], frequency: [1, 1, 2, 5], monetary: [100, 200, 300, 400] };
        let s = score(&b, day(9), 1, 400);
        assert_eq!((s.recency, s.frequency, s.monetary), (5, 1, 4));
        assert_eq!(score(&b, day(2), 2, 401).recency, 1);
        assert_eq!(score(&b, day(3), 2, 401).frequency, 3);
        assert_eq!(score(&b, day(3), 6, 401).monetary, 5);
    }
}
