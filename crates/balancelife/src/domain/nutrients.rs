//! What a food holds: nutrients per 100 g (or ml), each optional because an
//! unknown value is not a zero, micronutrients with their units, and the household
//! measures it is eaten by. Foods and recipes both speak of them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::values::{Grams, Text};

/// A serving's label, such as "1 slice" or "1 cup, chopped".
pub type ServingLabel = Text<80>;

/// Nutrients per 100 g (or ml). Each is `None` when the source does not say it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Nutrients {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy_kcal: Option<KcalPer100>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protein_g: Option<GramsPer100>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carbs_g: Option<GramsPer100>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fat_g: Option<GramsPer100>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiber_g: Option<GramsPer100>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sugars_g: Option<GramsPer100>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saturated_fat_g: Option<GramsPer100>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sodium_mg: Option<MilligramsPer100>,
}

crate::domain::values::bounded_f64!(
    /// Energy per 100 g or ml, in kilocalories: pure fat is 900.
    KcalPer100,
    0.0,
    1_000.0
);
crate::domain::values::bounded_f64!(
    /// A nutrient's grams per 100 g or ml: never more than the whole.
    GramsPer100,
    0.0,
    100.0
);
crate::domain::values::bounded_f64!(
    /// Milligrams per 100 g or ml (sodium: table salt has 38,758).
    MilligramsPer100,
    0.0,
    100_000.0
);
crate::domain::values::bounded_f64!(
    /// A micronutrient's amount per 100 g or ml, in its unit.
    Amount,
    0.0,
    100_000.0
);

/// The unit of a micronutrient's amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum MicroUnit {
    #[serde(rename = "g")]
    G,
    #[serde(rename = "mg")]
    Mg,
    #[serde(rename = "µg")]
    Ug,
    #[serde(rename = "IU")]
    Iu,
}

/// One micronutrient, named by a lower-case key such as `vitamin-c` or `iron`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Micronutrient {
    pub name: super::values::Tag,
    pub amount: Amount,
    pub unit: MicroUnit,
}

/// A household measure of the food, such as "1 slice" = 28 g.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Serving {
    pub label: ServingLabel,
    pub grams: Grams,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nutrients_per_100_cannot_exceed_the_whole() {
        assert!(GramsPer100::try_from(100.0).is_ok());
        assert!(GramsPer100::try_from(100.1).is_err());
        assert!(KcalPer100::try_from(1_000.1).is_err());
        assert!(GramsPer100::try_from(-0.1).is_err());
    }
}
