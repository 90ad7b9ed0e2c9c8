//! The food index: a `tantivy` index of every food's names and brand, with the
//! food itself stored beside them, so a search is answered without the store.
//!
//! A query is one group per word, all required. A word matches a name word exactly,
//! a brand word, or within one typo when it has five letters or more; the last word
//! (still being typed) also matches as the start of a word. Scores are constants
//! chosen so the order is the promised one: the viewer's own foods, then those they
//! logged recently, then foods whose whole name is the query, then by how each word
//! matched (exactly 3, as a prefix 2, with a typo 1), and among equals the shorter
//! name first.

use std::path::Path;

use parking_lot::Mutex;
use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::query::{
    BooleanQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, TermQuery, TermSetQuery,
};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};
use uuid::Uuid;

use super::text::{self, FOLDED, TYPO_FROM_LETTERS};
use crate::domain::{Barcode, Food, FoodSource};
use crate::store::foods::FoodChange;

/// Why the index failed, for the logs.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("food index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("food index directory: {0}")]
    Directory(#[from] std::io::Error),
}

/// The analyzer of the prefix field: its text is prefixes already.
const SPACED: &str = "spaced";
/// What marks a user's own food, beside its owner's id.
const PRIVATE: &str = "private";

/// The scores that order the results (see the module's documentation).
const OWN: f32 = 1_000.0;
const RECENT: f32 = 500.0;
const WHOLE_NAME: f32 = 100.0;
const EXACT_WORD: f32 = 3.0;
const PREFIX_WORD: f32 = 2.0;
const TYPO_WORD: f32 = 1.0;
/// Per character of the name: enough to order equals, never to change a tier.
const LENGTH_PENALTY: f32 = 0.001;

/// Memory the writer may fill before it writes a segment.
const WRITER_MEMORY_BYTES: usize = 16 * 1024 * 1024;

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    names: Field,
    prefixes: Field,
    brand: Field,
    brand_key: Field,
    whole_name: Field,
    source: Field,
    visible_to: Field,
    name_length: Field,
    barcodes: Field,
    food: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let folded = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(FOLDED)
            .set_index_option(IndexRecordOption::Basic),
    );
    let spaced = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(SPACED)
            .set_index_option(IndexRecordOption::Basic),
    );
    let fields = Fields {
        id: builder.add_text_field("id", STRING),
        names: builder.add_text_field("names", folded.clone()),
        prefixes: builder.add_text_field("prefixes", spaced),
        brand: builder.add_text_field("brand", folded),
        brand_key: builder.add_text_field("brand_key", STRING),
        whole_name: builder.add_text_field("whole_name", STRING),
        source: builder.add_text_field("source", STRING),
        visible_to: builder.add_text_field("visible_to", STRING),
        name_length: builder.add_u64_field("name_length", FAST),
        barcodes: builder.add_text_field("barcodes", STRING),
        food: builder.add_bytes_field("food", STORED),
    };
    (builder.build(), fields)
}

/// A search, as the API asks it.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// What the user typed.
    pub text: String,
    /// Who searches: their own foods are found (and first).
    pub viewer: Option<Uuid>,
    /// Foods the viewer starred or logged recently, ranked after their own.
    pub recent: Vec<Uuid>,
    pub source: Option<FoodSource>,
    /// A brand, matched whole (case and diacritics aside).
    pub brand: Option<String>,
    pub offset: usize,
    pub limit: usize,
}

/// One page of results, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    pub foods: Vec<Food>,
    /// Whether there are more after this page.
    pub more: bool,
}

pub struct FoodIndex {
    writer: Mutex<IndexWriter>,
    reader: IndexReader,
    fields: Fields,
}

impl FoodIndex {
    /// A new, empty index in `directory` (which must be empty or not exist yet):
    /// each start builds its own from the store.
    pub fn create_in(directory: &Path) -> Result<Self, IndexError> {
        std::fs::create_dir_all(directory)?;
        let (schema, fields) = schema();
        let index = Index::create_in_dir(directory, schema)?;
        index.tokenizers().register(FOLDED, text::analyzer());
        index.tokenizers().register(
            SPACED,
            TextAnalyzer::builder(WhitespaceTokenizer::default()).build(),
        );
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY_BYTES)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            writer: Mutex::new(writer),
            reader,
            fields,
        })
    }

    /// Applies `changes` and makes them searchable. Blocking: run it off the
    /// runtime's threads.
    pub fn apply(&self, changes: &[FoodChange]) -> Result<(), IndexError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut writer = self.writer.lock();
        for change in changes {
            writer.delete_term(Term::from_field_text(
                self.fields.id,
                &change.id.to_string(),
            ));
            if let Some(food) = &change.food {
                writer.add_document(self.document(food))?;
            }
        }
        writer.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// How many foods are searchable.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn document(&self, food: &Food) -> TantivyDocument {
        let fields = self.fields;
        let mut document = TantivyDocument::default();
        document.add_text(fields.id, food.id.to_string());
        let mut all_words = Vec::new();
        for name in std::iter::once(&food.name).chain(&food.other_names) {
            document.add_text(fields.names, name.text.as_str());
            let words = text::words(name.text.as_str());
            document.add_text(fields.whole_name, words.join(" "));
            all_words.extend(words);
        }
        if let Some(brand) = &food.brand {
            document.add_text(fields.brand, brand.as_str());
            let words = text::words(brand.as_str());
            document.add_text(fields.brand_key, words.join(" "));
            all_words.extend(words);
        }
        // The name's and the brand's: either may be the word being typed.
        document.add_text(fields.prefixes, text::prefixes(&all_words));
        for barcode in &food.barcodes {
            document.add_text(fields.barcodes, barcode.as_str());
        }
        document.add_text(fields.source, food.source.as_str());
        if let Some(owner) = food.owner {
            document.add_text(fields.visible_to, PRIVATE);
            document.add_text(fields.visible_to, owner.to_string());
        }
        document.add_u64(
            fields.name_length,
            food.name.text.as_str().chars().count() as u64,
        );
        let stored = serde_json::to_vec(food).expect("a food encodes as JSON");
        document.add_bytes(fields.food, &stored);
        document
    }

    /// The page of foods matching `request`. Blocking, as `apply`.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchPage, IndexError> {
        let Some(query) = self.query(request) else {
            return Ok(SearchPage {
                foods: Vec::new(),
                more: false,
            });
        };
        let searcher = self.reader.searcher();
        let collector = TopDocs::with_limit(request.limit + 1)
            .and_offset(request.offset)
            .tweak_score(move |segment: &tantivy::SegmentReader| {
                let lengths = segment
                    .fast_fields()
                    .u64("name_length")
                    .map(|column| column.first_or_default_col(0));
                move |doc: tantivy::DocId, score: tantivy::Score| {
                    let length = lengths.as_ref().map_or(0, |column| column.get_val(doc));
                    score - length as f32 * LENGTH_PENALTY
                }
            });
        let hits: Vec<(f32, DocAddress)> = searcher.search(&query, &collector)?;
        let more = hits.len() > request.limit;
        let mut foods = Vec::with_capacity(request.limit);
        for (_, address) in hits.into_iter().take(request.limit) {
            foods.extend(self.stored_food(&searcher, address)?);
        }
        Ok(SearchPage { foods, more })
    }

    /// Every food with `barcode`, whoever may see it. Blocking, as `apply`.
    pub fn with_barcode(&self, barcode: &Barcode) -> Result<Vec<Food>, IndexError> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.barcodes, barcode.as_str()),
            IndexRecordOption::Basic,
        );
        let addresses = searcher.search(&query, &DocSetCollector)?;
        let mut foods = Vec::with_capacity(addresses.len());
        for address in addresses {
            foods.extend(self.stored_food(&searcher, address)?);
        }
        Ok(foods)
    }

    /// The food kept with the document at `address`.
    fn stored_food(
        &self,
        searcher: &tantivy::Searcher,
        address: DocAddress,
    ) -> Result<Option<Food>, IndexError> {
        let document: TantivyDocument = searcher.doc(address)?;
        Ok(document
            .get_first(self.fields.food)
            .and_then(|value| value.as_bytes())
            .and_then(|bytes| serde_json::from_slice::<Food>(bytes).ok()))
    }

    /// The query of `request`, or `None` when it has no word to look for.
    fn query(&self, request: &SearchRequest) -> Option<BooleanQuery> {
        let fields = self.fields;
        let words = text::words(&request.text);
        let (last, complete) = words.split_last()?;
        let term = |field: Field, text: &str| Term::from_field_text(field, text);
        let constant = |query: Box<dyn Query>, score: f32| -> Box<dyn Query> {
            Box::new(ConstScoreQuery::new(query, score))
        };
        let exact = |field: Field, text: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(term(field, text), IndexRecordOption::Basic))
        };

        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (word, typing) in complete
            .iter()
            .map(|word| (word, false))
            .chain([(last, true)])
        {
            let mut ways: Vec<(Occur, Box<dyn Query>)> = vec![
                (
                    Occur::Should,
                    constant(exact(fields.names, word), EXACT_WORD),
                ),
                (
                    Occur::Should,
                    constant(exact(fields.brand, word), EXACT_WORD),
                ),
            ];
            if typing {
                let prefix = exact(fields.prefixes, text::indexed_prefix(word));
                ways.push((Occur::Should, constant(prefix, PREFIX_WORD)));
            }
            if word.chars().count() >= TYPO_FROM_LETTERS {
                for field in [fields.names, fields.brand] {
                    let fuzzy: Box<dyn Query> = if typing {
                        Box::new(FuzzyTermQuery::new_prefix(term(field, word), 1, true))
                    } else {
                        Box::new(FuzzyTermQuery::new(term(field, word), 1, true))
                    };
                    ways.push((Occur::Should, constant(fuzzy, TYPO_WORD)));
                }
            }
            // Whichever way matched best counts: a word is not worth more for
            // matching three ways.
            clauses.push((Occur::Must, Box::new(best_of(ways))));
        }

        // Other users' foods are left out rather than everyone's and the viewer's
        // let in: the private foods are few, so the exclusion reads short posting
        // lists where the inclusion would read the public one, nearly every food.
        let mut others_private: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, exact(fields.visible_to, PRIVATE))];
        if let Some(viewer) = request.viewer {
            let viewer = viewer.to_string();
            others_private.push((Occur::MustNot, exact(fields.visible_to, &viewer)));
            clauses.push((
                Occur::Should,
                constant(exact(fields.visible_to, &viewer), OWN),
            ));
        }
        clauses.push((Occur::MustNot, Box::new(BooleanQuery::new(others_private))));
        if !request.recent.is_empty() {
            let recent = request
                .recent
                .iter()
                .map(|id| term(fields.id, &id.to_string()));
            clauses.push((
                Occur::Should,
                constant(Box::new(TermSetQuery::new(recent)), RECENT),
            ));
        }
        clauses.push((
            Occur::Should,
            constant(exact(fields.whole_name, &words.join(" ")), WHOLE_NAME),
        ));
        if let Some(source) = request.source {
            clauses.push((
                Occur::Must,
                constant(exact(fields.source, source.as_str()), 0.0),
            ));
        }
        if let Some(brand) = &request.brand {
            let brand = text::words(brand).join(" ");
            clauses.push((Occur::Must, constant(exact(fields.brand_key, &brand), 0.0)));
        }
        Some(BooleanQuery::new(clauses))
    }
}

/// A query matching when any of `ways` does, scored as the best of them.
fn best_of(ways: Vec<(Occur, Box<dyn Query>)>) -> tantivy::query::DisjunctionMaxQuery {
    let queries = ways.into_iter().map(|(_, query)| query).collect();
    tantivy::query::DisjunctionMaxQuery::new(queries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Basis, FoodName, LanguageTag, Nutrients, Version};
    use crate::store::foods::FoodChange;

    fn food(name: &str, brand: Option<&str>) -> Food {
        let now = crate::domain::now();
        Food {
            id: Uuid::now_v7(),
            source: FoodSource::Admin,
            source_id: None,
            owner: None,
            name: FoodName {
                text: name.try_into().unwrap(),
                lang: LanguageTag::english(),
            },
            other_names: Vec::new(),
            brand: brand.map(|brand| brand.try_into().unwrap()),
            barcodes: Vec::new(),
            basis: Basis::Per100G,
            nutrients: Nutrients::default(),
            micronutrients: Vec::new(),
            servings: Vec::new(),
            recipe: None,
            version: Version::try_from(1_i64).unwrap(),
            created_at: now,
            updated_at: now,
        }
    }

    fn names(index: &FoodIndex, text: &str) -> Vec<String> {
        let request = SearchRequest {
            text: text.into(),
            limit: 10,
            ..SearchRequest::default()
        };
        let page = index.search(&request).unwrap();
        page.foods
            .into_iter()
            .map(|food| food.name.text.as_str().to_owned())
            .collect()
    }

    #[test]
    fn a_typo_in_the_brand_is_forgiven_as_in_the_name() {
        let directory = tempfile::tempdir().unwrap();
        let index = FoodIndex::create_in(directory.path()).unwrap();
        let spread = food("Hazelnut spread", Some("Ferrero"));
        index
            .apply(&[FoodChange {
                id: spread.id,
                changed_at: crate::domain::now(),
                food: Some(spread),
            }])
            .unwrap();

        assert_eq!(names(&index, "ferrero hazelnut"), ["Hazelnut spread"]);
        assert_eq!(names(&index, "hazelnut ferrer"), ["Hazelnut spread"]);
        assert_eq!(names(&index, "ferrerp"), ["Hazelnut spread"], "typing");
        assert_eq!(names(&index, "hazelnt"), ["Hazelnut spread"]);
        assert_eq!(names(&index, "hazelnt spread"), ["Hazelnut spread"]);
        assert_eq!(names(&index, "hazelnut ferero"), ["Hazelnut spread"]);
        assert_eq!(names(&index, "ferero hazelnut"), ["Hazelnut spread"]);
    }
}
