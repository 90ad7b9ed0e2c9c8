//! Foods: what a meal is logged from. A food comes from a public database (USDA
//! FoodData Central, Open Food Facts), the admins, or a user for themselves; its
//! nutrients are per 100 g (or per 100 ml), and each is optional because an unknown
//! value is not a zero, as in entries.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::barcode::Barcode;
use super::nutrients::{Micronutrient, Nutrients, Serving};
use super::recipe::Recipe;
use super::values::{InvalidValue, Text, Version};

/// A food's name, with the language it is in (a BCP 47 tag such as `en` or `de-CH`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FoodName {
    pub text: FoodText,
    pub lang: LanguageTag,
}

/// A food's name or brand: up to 200 characters.
pub type FoodText = Text<200>;
/// The id a food has in the database it came from (an FDC id, a barcode).
pub type SourceId = Text<64>;

/// Where a food comes from, and so under which licence it is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FoodSource {
    /// USDA FoodData Central: public domain (CC0).
    Usda,
    /// Open Food Facts: Open Database Licence, contents under the Database Contents
    /// Licence.
    OpenFoodFacts,
    /// Published by the service's admins.
    Admin,
    /// A user's own food, seen by that user alone.
    User,
}

impl FoodSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Usda => "usda",
            Self::OpenFoodFacts => "open_food_facts",
            Self::Admin => "admin",
            Self::User => "user",
        }
    }

    /// The licence and attribution every answer carrying such a food repeats, as the
    /// source's terms ask.
    pub fn licence(self) -> Licence {
        match self {
            Self::Usda => Licence {
                name: "CC0 1.0 (public domain)",
                attribution: "U.S. Department of Agriculture, Agricultural Research Service. \
                              FoodData Central. fdc.nal.usda.gov",
            },
            Self::OpenFoodFacts => Licence {
                name: "ODbL 1.0 (database), DbCL 1.0 (contents)",
                attribution: "Open Food Facts contributors, openfoodfacts.org",
            },
            Self::Admin | Self::User => Licence {
                name: "BalanceLife",
                attribution: "BalanceLife",
            },
        }
    }
}

/// A food's licence and attribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Licence {
    pub name: &'static str,
    pub attribution: &'static str,
}

/// What the nutrients are given per: 100 g of a solid, 100 ml of a drink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Per100G,
    Per100Ml,
}

/// A food as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Food {
    pub id: Uuid,
    pub source: FoodSource,
    /// Its id in its source (`None` for admins' and users' foods); with the source,
    /// what an import matches on.
    pub source_id: Option<SourceId>,
    /// The user whose private food it is; `None` for everyone's.
    pub owner: Option<Uuid>,
    pub name: FoodName,
    /// The name in other languages, if the source gives them.
    pub other_names: Vec<FoodName>,
    pub brand: Option<FoodText>,
    /// Normal forms, without repeats.
    pub barcodes: Vec<Barcode>,
    pub basis: Basis,
    pub nutrients: Nutrients,
    pub micronutrients: Vec<Micronutrient>,
    pub servings: Vec<Serving>,
    /// What it is made of, when it is a user's recipe: its nutrients and its one
    /// serving were worked out from these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe: Option<Recipe>,
    /// Bumped by every change: entries logged from the food keep the version.
    pub version: Version,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Food {
    /// At most this many barcodes, servings, names or micronutrients per food.
    pub const MAX_LISTED: usize = 64;

    /// Checks what the field types cannot: no list too long, and the owner set
    /// exactly for users' foods.
    pub fn check(&self) -> Result<(), InvalidValue> {
        let lists = [
            ("barcodes", self.barcodes.len()),
            ("servings", self.servings.len()),
            ("other_names", self.other_names.len()),
            ("micronutrients", self.micronutrients.len()),
        ];
        if let Some((field, _)) = lists.iter().find(|(_, len)| *len > Self::MAX_LISTED) {
            return Err(InvalidValue::new(format!(
                "{field}: at most {} per food",
                Self::MAX_LISTED
            )));
        }
        if (self.source == FoodSource::User) != self.owner.is_some() {
            return Err(InvalidValue::new(
                "owner: a user's food has an owner, and no other food has one",
            ));
        }
        if self.recipe.is_some() && self.source != FoodSource::User {
            return Err(InvalidValue::new("recipe: recipes are their authors' own"));
        }
        Ok(())
    }

    /// Whether `user` may see it: everyone's foods, and a user's own.
    pub fn visible_to(&self, user: Option<Uuid>) -> bool {
        self.owner.is_none() || self.owner == user
    }

    /// Barcodes sorted and without repeats, so equal foods compare equal.
    pub fn normalize(&mut self) {
        self.barcodes.sort();
        self.barcodes.dedup();
    }
}

/// A BCP 47 language tag, kept short and simple: a 2–3 letter language, optionally a
/// region or script (`en`, `de-CH`, `zh-Hant`), lower-cased language.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LanguageTag(String);

const LANGUAGE_PATTERN: &str = "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$";

impl LanguageTag {
    pub fn english() -> Self {
        Self("en".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LanguageTag {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        let (language, rest) = match value.split_once('-') {
            Some((language, rest)) => (language, Some(rest)),
            None => (value.as_str(), None),
        };
        let language_ok =
            (2..=3).contains(&language.len()) && language.bytes().all(|b| b.is_ascii_alphabetic());
        let rest_ok = rest.is_none_or(|rest| {
            (2..=8).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if !(language_ok && rest_ok) {
            return Err(InvalidValue::new(
                "must be a language tag such as `en`, `de` or `de-CH`",
            ));
        }
        let mut tag = language.to_ascii_lowercase();
        if let Some(rest) = rest {
            tag.push('-');
            tag.push_str(rest);
        }
        Ok(Self(tag))
    }
}

impl From<LanguageTag> for String {
    fn from(value: LanguageTag) -> String {
        value.0
    }
}

impl utoipa::PartialSchema for LanguageTag {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        super::schema::string(
            12,
            LANGUAGE_PATTERN,
            "A language tag such as `en` or `de-CH`.",
        )
        .min_length(Some(2))
        .into()
    }
}

impl utoipa::ToSchema for LanguageTag {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_are_checked_and_their_language_lower_cased() {
        assert_eq!(
            LanguageTag::try_from("DE-CH".to_owned()).unwrap().as_str(),
            "de-CH"
        );
        for bad in ["", "e", "english", "en-", "en-a", "en_GB", "1a"] {
            assert!(LanguageTag::try_from(bad.to_owned()).is_err(), "{bad}");
        }
        let pattern = regex::Regex::new(LANGUAGE_PATTERN).unwrap();
        for good in ["en", "de-CH", "zh-Hant", "gsw"] {
            assert!(LanguageTag::try_from(good.to_owned()).is_ok(), "{good}");
            assert!(pattern.is_match(good), "{good}");
        }
    }
}
