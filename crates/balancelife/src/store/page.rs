//! Pagination and range types shared by every store.

use chrono::NaiveDate;

use crate::domain::InvalidValue;

/// How many items one page may hold: 1 to 100, 50 unless asked otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u16);

impl PageLimit {
    pub const MAX: u16 = 100;
    pub const DEFAULT: Self = Self(50);
    /// The largest page, for reading everything page by page.
    pub const LARGEST: Self = Self(Self::MAX);

    /// A page of `items` (1 to 1,000) for the service's own reads of everything a
    /// user has (a first sync's snapshot): past what a client may ask a list for,
    /// so ten times fewer round trips.
    pub fn bulk(items: usize) -> Self {
        Self(u16::try_from(items.clamp(1, 1_000)).expect("at most 1,000"))
    }

    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl TryFrom<i64> for PageLimit {
    type Error = InvalidValue;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        u16::try_from(value)
            .ok()
            .filter(|v| (1..=Self::MAX).contains(v))
            .map(Self)
            .ok_or_else(|| InvalidValue(format!("must be a whole number from 1 to {}", Self::MAX)))
    }
}

/// A page request: at most `limit` items strictly after position `after`.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRequest<P> {
    pub limit: PageLimit,
    pub after: Option<P>,
}

impl<P> PageRequest<P> {
    pub fn first(limit: PageLimit) -> Self {
        Self { limit, after: None }
    }
}

/// One page of results and, when more may follow, the position to continue after.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T, P> {
    pub items: Vec<T>,
    pub next: Option<P>,
}

impl<T, P> Page<T, P> {
    /// Builds a page from up to `limit + 1` ordered items: the extra one only tells
    /// that another page exists, so no empty last page is ever announced.
    pub fn from_overfetched(
        mut items: Vec<T>,
        limit: PageLimit,
        position: impl Fn(&T) -> P,
    ) -> Self {
        let next = if items.len() > limit.get() {
            items.truncate(limit.get());
            items.last().map(position)
        } else {
            None
        };
        Self { items, next }
    }
}

/// An inclusive range of calendar days, `from <= to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    from: NaiveDate,
    to: NaiveDate,
}

impl DateRange {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, InvalidValue> {
        if from > to {
            return Err(InvalidValue::new("must not be before `from`"));
        }
        Ok(Self { from, to })
    }

    pub fn day(date: NaiveDate) -> Self {
        Self {
            from: date,
            to: date,
        }
    }

    pub fn from(self) -> NaiveDate {
        self.from
    }

    pub fn to(self) -> NaiveDate {
        self.to
    }

    pub fn contains(self, date: NaiveDate) -> bool {
        (self.from..=self.to).contains(&date)
    }

    /// Number of days in the range, both ends included.
    pub fn days(self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// Each day of the range, in order.
    pub fn dates(self) -> impl Iterator<Item = NaiveDate> {
        self.from.iter_days().take_while(move |day| *day <= self.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_last_page_announces_no_next_page() {
        let limit = PageLimit::try_from(3).unwrap();
        let exactly = Page::from_overfetched(vec![1, 2, 3], limit, |n| *n);
        assert_eq!((exactly.items, exactly.next), (vec![1, 2, 3], None));
        let one_more = Page::from_overfetched(vec![1, 2, 3, 4], limit, |n| *n);
        assert_eq!((one_more.items, one_more.next), (vec![1, 2, 3], Some(3)));
    }

    #[test]
    fn a_range_counts_both_its_ends() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        assert_eq!(DateRange::day(day(2)).days(), 1);
        assert_eq!(DateRange::new(day(2), day(8)).unwrap().days(), 7);
    }
}
