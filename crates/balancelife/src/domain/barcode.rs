//! Product barcodes: EAN-13, EAN-8 and UPC-A, checked by their check digit.
//!
//! All three are GTINs. A UPC-A code is the EAN-13 code with a leading zero, and
//! scanners report either form for the same pack, so a barcode is kept in one
//! normal form: EAN-13 for UPC-A and EAN-13 codes, EAN-8 as it is. Two barcodes are
//! then the same product exactly when their normal forms are equal.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::openapi::{RefOr, schema::Schema};

use super::schema;
use super::values::InvalidValue;

/// A barcode in its normal form: 8 or 13 digits with a correct check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Barcode(String);

/// Which symbology a barcode was read as; a UPC-A code is an EAN-13 code starting
/// with 0, so that is what its normal form says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symbology {
    Ean13,
    Ean8,
}

/// What the OpenAPI document says a barcode looks like; the check digit is the
/// constructor's to check.
const PATTERN: &str = "^([0-9]{8}|[0-9]{12,13})$";

impl Barcode {
    /// `code` as a scanner or a person typed it: 8 (EAN-8), 12 (UPC-A) or 13
    /// (EAN-13) digits, white space around it ignored. Refused when the length is
    /// none of those or the last digit is not the check digit of the others.
    pub fn parse(code: &str) -> Result<Self, InvalidValue> {
        let digits = code.trim();
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidValue::new("a barcode has digits only"));
        }
        let normal = match digits.len() {
            8 | 13 => digits.to_owned(),
            12 => format!("0{digits}"),
            _ => {
                return Err(InvalidValue::new(
                    "a barcode has 8 (EAN-8), 12 (UPC-A) or 13 (EAN-13) digits",
                ));
            }
        };
        let (data, check) = normal.split_at(normal.len() - 1);
        if check_digit(data) != check.as_bytes()[0] - b'0' {
            return Err(InvalidValue::new(
                "the barcode's last digit is not its check digit: it was mistyped or misread",
            ));
        }
        Ok(Self(normal))
    }

    /// The EAN-13 or EAN-8 barcode of `data`, its digits but the last: the check
    /// digit is worked out and added.
    pub fn completing(data: &str) -> Result<Self, InvalidValue> {
        if !data.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidValue::new("a barcode has digits only"));
        }
        Self::parse(&format!("{data}{}", check_digit(data)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn symbology(&self) -> Symbology {
        if self.0.len() == 8 {
            Symbology::Ean8
        } else {
            Symbology::Ean13
        }
    }
}

/// The GTIN check digit of `data` (ASCII digits): from the rightmost digit leftwards,
/// weights 3, 1, 3, …; the check digit brings the weighted sum to a multiple of ten.
fn check_digit(data: &str) -> u8 {
    let sum: u32 = data
        .bytes()
        .rev()
        .enumerate()
        .map(|(position, digit)| {
            let weight = if position % 2 == 0 { 3 } else { 1 };
            u32::from(digit - b'0') * weight
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl TryFrom<String> for Barcode {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl FromStr for Barcode {
    type Err = InvalidValue;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

impl From<Barcode> for String {
    fn from(value: Barcode) -> String {
        value.0
    }
}

impl fmt::Display for Barcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl utoipa::PartialSchema for Barcode {
    fn schema() -> RefOr<Schema> {
        schema::string(
            13,
            PATTERN,
            "An EAN-13, EAN-8 or UPC-A barcode, digits only, with its check digit. \
             Answered in its normal form: a UPC-A code as the EAN-13 code it is \
             (with a leading 0).",
        )
        .min_length(Some(8))
        .into()
    }
}

impl utoipa::ToSchema for Barcode {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_codes_are_accepted() {
        // From the GS1 and manufacturers' examples: an EAN-13, an EAN-8, a UPC-A.
        for code in ["4006381333931", "73513537", "036000291452", "5901234123457"] {
            assert!(Barcode::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn a_wrong_check_digit_is_refused_whatever_the_length() {
        for code in ["4006381333932", "73513538", "036000291453"] {
            let error = Barcode::parse(code).unwrap_err();
            assert!(error.0.contains("check digit"), "{code}: {error}");
        }
    }

    #[test]
    fn every_single_digit_error_is_caught() {
        let valid = "4006381333931";
        for position in 0..valid.len() {
            for replacement in b'0'..=b'9' {
                let mut code = valid.as_bytes().to_vec();
                if code[position] == replacement {
                    continue;
                }
                code[position] = replacement;
                let code = String::from_utf8(code).unwrap();
                assert!(Barcode::parse(&code).is_err(), "{code}");
            }
        }
    }

    #[test]
    fn upc_a_and_its_ean_13_form_are_the_same_barcode() {
        let upc = Barcode::parse("036000291452").unwrap();
        let ean = Barcode::parse("0036000291452").unwrap();
        assert_eq!(upc, ean);
        assert_eq!(upc.as_str(), "0036000291452");
        assert_eq!(upc.symbology(), Symbology::Ean13);
        assert_eq!(
            Barcode::parse(" 73513537\n").unwrap().symbology(),
            Symbology::Ean8
        );
    }

    #[test]
    fn completing_adds_the_check_digit() {
        assert_eq!(
            Barcode::completing("400638133393").unwrap().as_str(),
            "4006381333931"
        );
        assert_eq!(Barcode::completing("7351353").unwrap().as_str(), "73513537");
        assert!(Barcode::completing("4006-8133393").is_err());
    }

    #[test]
    fn other_lengths_and_characters_are_refused() {
        for code in [
            "",
            "1234567",
            "123456789",
            "12345678901234",
            "4006381-33393",
            "４００６",
        ] {
            assert!(Barcode::parse(code).is_err(), "{code:?}");
        }
    }

    #[test]
    fn the_schema_pattern_admits_every_accepted_length() {
        let pattern = regex::Regex::new(PATTERN).unwrap();
        for code in ["73513537", "036000291452", "4006381333931"] {
            assert!(pattern.is_match(code), "{code}");
        }
        assert!(!pattern.is_match("1234567890"));
    }
}
