//! How names become searchable words: split on anything but letters and digits,
//! lower-cased, diacritics folded to ASCII ("Crème" is "creme"). The index and the
//! queries use the one analyzer, so a query word and an indexed word meet exactly
//! when their folded forms are equal.

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, TokenStream,
};

/// The name the analyzer is registered under in the index.
pub const FOLDED: &str = "folded";

/// Words longer than this are not indexed (nor searched): no food name has one.
const LONGEST_WORD: usize = 40;

/// The shortest word in which one typo is tolerated: in shorter ones a typo makes
/// another common word ("oats" and "bats").
pub const TYPO_FROM_LETTERS: usize = 5;

/// Prefixes are indexed up to this many characters; a longer word still being
/// typed is matched by its first `LONGEST_PREFIX` characters and by the fuzzy
/// prefix match.
pub const LONGEST_PREFIX: usize = 16;

pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(LONGEST_WORD))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The folded words of `text`, in order.
pub fn words(text: &str) -> Vec<String> {
    let mut analyzer = analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut words = Vec::new();
    while stream.advance() {
        words.push(stream.token().text.clone());
    }
    words
}

/// Every prefix of every word (up to `LONGEST_PREFIX` characters), separated by
/// spaces: what the prefix field indexes, so that a word being typed is one term
/// lookup however short it is, where a prefix scan of the term dictionary would
/// visit every word starting with "a".
pub fn prefixes(words: &[String]) -> String {
    let mut all = String::new();
    for word in words {
        for (end, _) in word.char_indices().skip(1).chain([(word.len(), ' ')]) {
            if word[..end].chars().count() > LONGEST_PREFIX {
                break;
            }
            all.push_str(&word[..end]);
            all.push(' ');
        }
    }
    all
}

/// A word cut to the longest prefix that is indexed.
pub fn indexed_prefix(word: &str) -> &str {
    match word.char_indices().nth(LONGEST_PREFIX) {
        Some((end, _)) => &word[..end],
        None => word,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_cased_and_folded() {
        assert_eq!(
            words("Crème BRÛLÉE, 2 pots"),
            ["creme", "brulee", "2", "pots"]
        );
        assert_eq!(words("Müsli (Bio)"), ["musli", "bio"]);
        assert!(words(" ,.- ").is_empty());
    }

    #[test]
    fn prefixes_cover_each_word_from_its_first_letter() {
        let words = words("Oat milk");
        assert_eq!(prefixes(&words), "o oa oat m mi mil milk ");
    }

    #[test]
    fn long_words_are_prefixed_up_to_the_limit() {
        let word = "a".repeat(20);
        let indexed = prefixes(std::slice::from_ref(&word));
        assert_eq!(
            indexed.split(' ').filter(|p| !p.is_empty()).count(),
            LONGEST_PREFIX
        );
        assert_eq!(indexed_prefix(&word).len(), LONGEST_PREFIX);
    }
}
