//! Pre- and post-images of the collections the change-stream invalidator watches:
//! asking MongoDB to keep them where it does not, and knowing where it does. A
//! change with its pre-image says what it replaced (an entry's old day, a user's old
//! e-mail); without one it names only its document, and the invalidator voids what
//! that document's owner has cached rather than exactly what changed. MongoDB 6.0+
//! keeps them once `collMod` turns them on, which older servers and users without
//! that privilege (MongoDB's own `readWrite` role) cannot do.

use std::collections::BTreeSet;

use bson::doc;
use futures_util::TryStreamExt;
use mongodb::Database;
use mongodb::error::ErrorKind;

/// Where MongoDB keeps pre- and post-images, as read once at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    /// The watched collections without them.
    missing: BTreeSet<String>,
    /// Why turning them on failed, as the server said it (a code name).
    refused: Option<String>,
}

impl Images {
    /// Whether changes in `collection` come with their images.
    pub fn kept_for(&self, collection: &str) -> bool {
        !self.missing.contains(collection)
    }

    /// Whether every watched collection keeps them.
    pub fn kept_everywhere(&self) -> bool {
        self.missing.is_empty()
    }

    /// What `/health` adds while some collection keeps none.
    pub fn shortfall(&self) -> Option<String> {
        if self.missing.is_empty() {
            return None;
        }
        let collections: Vec<&str> = self.missing.iter().map(String::as_str).collect();
        let why = self
            .refused
            .as_deref()
            .map_or_else(String::new, |why| format!(" (the server refused: {why})"));
        Some(format!(
            "MongoDB keeps no pre-images of {}{why}: a change there voids everything cached of \
             the user it names rather than exactly what it changed, and deleting an entry \
             takes a transaction (the deletion and a note of whose it was)",
            collections.join(", ")
        ))
    }
}

/// Reads which of `collections` keep images and asks MongoDB to keep them where
/// they do not. Fails only when MongoDB does not answer (the caller tries again); a
/// refusal is an answer, kept in what this returns. A server that will not say
/// which keep them is taken to keep none: the invalidator then voids more broadly,
/// never less.
pub async fn ensure(db: &Database, collections: &[&str]) -> mongodb::error::Result<Images> {
    let mut missing = match without_images(db, collections).await {
        Err(error) if refusal(&error).is_some() => {
            return Ok(Images {
                missing: collections.iter().map(|name| (*name).to_owned()).collect(),
                refused: refusal(&error),
            });
        }
        found => found?,
    };
    let mut refused = None;
    for collection in &missing {
        let command = doc! {
            "collMod": collection,
            "changeStreamPreAndPostImages": { "enabled": true },
        };
        if let Err(error) = db.run_command(command).await {
            let Some(why) = refusal(&error) else {
                return Err(error);
            };
            tracing::warn!(
                %error,
                collection,
                "MongoDB refused to keep pre-images; changes without them void the cache of the user they name"
            );
            refused.get_or_insert(why);
        }
    }
    if !missing.is_empty() {
        // What the server keeps now, whatever it answered.
        missing = without_images(db, collections).await?;
    }
    Ok(Images { missing, refused })
}

/// The server's name for why it refused a command; `None` when it did not answer.
fn refusal(error: &mongodb::error::Error) -> Option<String> {
    match error.kind.as_ref() {
        ErrorKind::Command(refused) => Some(refused.code_name.clone()),
        _ => None,
    }
}

/// Those of `collections` that do not keep images (a collection not created yet
/// counts as one that does not).
async fn without_images(
    db: &Database,
    collections: &[&str],
) -> mongodb::error::Result<BTreeSet<String>> {
    let specifications: Vec<_> = db
        .list_collections()
        .filter(doc! { "name": { "$in": collections.to_vec() } })
        .await?
        .try_collect()
        .await?;
    let keeping: BTreeSet<String> = specifications
        .into_iter()
        .filter(|specification| {
            specification
                .options
                .change_stream_pre_and_post_images
                .as_ref()
                .is_some_and(|images| images.enabled)
        })
        .map(|specification| specification.name)
        .collect();
    Ok(collections
        .iter()
        .filter(|collection| !keeping.contains(**collection))
        .map(|collection| (*collection).to_owned())
        .collect())
}

#[cfg(test)]
impl Images {
    /// Kept for every collection but `missing`.
    pub fn kept_except(missing: &[&str]) -> Self {
        Self {
            missing: missing.iter().map(|name| (*name).to_owned()).collect(),
            refused: None,
        }
    }
}
