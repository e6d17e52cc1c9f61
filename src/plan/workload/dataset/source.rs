//! A dataset as the engine's [`BodySource`]: request `i` sends record `i` (cycled), built for
//! the protocol, or as written when the record is a whole body.

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::{Content, Dataset};
use crate::measure::engine::{BodySource, MadeBody};
use crate::measure::tokens::Tokenizer;
use crate::plan::workload::built::BuildSettings;

/// Makes each request's body from its dataset record.
#[derive(Debug)]
pub struct DatasetBodies {
    dataset: Dataset,
    build: BuildSettings,
    tokenizer: Tokenizer,
}

impl DatasetBodies {
    /// Fails, naming the first record at fault, when a record needs a body built and none
    /// can be (no protocol known, no template). Loads the tokenizer's tables now, so that no
    /// request waits for them.
    pub fn new(
        dataset: Dataset,
        build: &BuildSettings,
        tokenizer: Tokenizer,
        file: &std::path::Path,
    ) -> anyhow::Result<DatasetBodies> {
        if let Some(item) = dataset.first_to_build() {
            if !build.can_build() {
                anyhow::bail!(
                    "{}:{}: this record's body must be built, and the URL's path names no \
                     protocol; give --format, a `body` with {{{{prompt}}}}, or whole `body` records",
                    file.display(),
                    item.line
                );
            }
            tokenizer.load();
        }
        Ok(DatasetBodies { dataset, build: build.clone(), tokenizer })
    }

    /// The dataset read.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The dataset, checked, for a use of its own (multi-turn sessions).
    pub fn into_dataset(self) -> Dataset {
        self.dataset
    }
}

impl BodySource for DatasetBodies {
    fn body(&self, index: u64) -> MadeBody {
        let item = self.dataset.item(index);
        match &item.content {
            Content::Body(bytes) => MadeBody {
                bytes: bytes.clone(),
                output_tokens: item.output_tokens,
                input_tokens: item.input_tokens,
                headers: Vec::new(),
            },
            Content::Messages(messages) => {
                let (input, from_file) = item.lengths(&self.tokenizer);
                // `--output-tokens` wins over the file's length, as a flag wins over a file;
                // drawn per request number, as synthetic runs draw it.
                let mut rng = StdRng::seed_from_u64(index);
                let drawn = self.build.output.map(|o| o.sample(&mut rng));
                let output = drawn.or(from_file);
                let bytes = self.build.build(messages, output);
                // With a template, the prompt is only part of what is sent.
                let input_tokens = input.filter(|_| self.build.template.is_none());
                MadeBody { bytes, output_tokens: output, input_tokens, headers: Vec::new() }
            }
        }
    }
}
