//! Request templates and data sources: turns a [`Config`] into the concrete request of each
//! request number.
//!
//! A body of one's own is rendered before the run starts (one per CSV row, cycled), so
//! building a request on the hot path is a cheap clone. Every placeholder is checked against
//! the CSV header first, so a typo fails before any request is sent, not as a hundred odd
//! responses. Bodies streamperf builds (synthetic prompts, datasets) are made per request
//! number by a [`BodySource`], before the request's clock starts.

pub mod bodies;
pub mod built;
pub mod dataset;
pub mod prompts;
pub mod replay;
pub mod sessions;
pub mod synthetic;
pub(crate) mod template;
pub mod trace;

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::bail;
use bytes::Bytes;

use crate::measure::engine::{BodySource, SessionSource};
use crate::measure::tokens::Tokenizer;
use crate::plan::config::{Config, DataSource, DatasetFormat, SessionSettings};
use dataset::{Dataset, DatasetBodies, csv};
use prompts::Prompts;

/// The engine's input: one fully rendered request.
pub use crate::measure::engine::RequestSpec;

/// The rendered requests, used in order and cycled; with `--input-tokens`, also the body
/// each request number gets.
#[derive(Debug, Clone, Default)]
pub struct Workload {
    specs: Vec<RequestSpec>,
    bodies: Option<Arc<dyn BodySource>>,
    sessions: Option<Arc<sessions::Sessions>>,
    trace: Option<Arc<replay::TraceBodies>>,
    dataset: Option<(DatasetFormat, usize)>,
}

impl Workload {
    /// Loads the data source (if any) and renders every distinct request; fails before any
    /// request is sent when the file is unreadable or a placeholder names no column.
    ///
    /// Without a data source, `{{…}}` text is sent as written.
    pub fn load(config: &Config) -> anyhow::Result<Workload> {
        if let Some(settings) = &config.sessions {
            return Workload::conversations(config, settings);
        }
        if let (Some(settings), Some(build)) = (&config.trace, &config.built) {
            let tokenizer = Tokenizer::from_spec(&config.tokenizer)?;
            let bodies = replay::TraceBodies::new(settings.read()?, settings, build, &tokenizer)?;
            let bodies = Arc::new(bodies);
            let mut workload = Workload::built(config, bodies.clone(), None)?;
            workload.trace = Some(bodies);
            return Ok(workload);
        }
        match (&config.synthetic, &config.data_source, &config.built) {
            (Some(settings), _, Some(build)) => {
                let tokenizer = Tokenizer::from_spec(&config.tokenizer)?;
                let bodies = synthetic::Synthetic::new(settings, build, &tokenizer)?;
                Ok(Workload::built(config, Arc::new(bodies), None)?)
            }
            (None, Some(source), Some(build)) => {
                let dataset = Dataset::read(source)?;
                let about = (dataset.format(), dataset.len());
                let tokenizer = Tokenizer::from_spec(&config.tokenizer)?;
                let bodies = DatasetBodies::new(dataset, build, tokenizer, &source.file)?;
                Ok(Workload::built(config, Arc::new(bodies), Some(about))?)
            }
            (None, Some(source), None) => Workload::from_csv(config, source),
            _ => {
                let spec = render(config, &|_| None)?;
                Ok(Workload { specs: vec![spec], ..Workload::default() })
            }
        }
    }

    /// Multi-turn sessions of synthetic prompts or of a conversation dataset.
    fn conversations(config: &Config, settings: &SessionSettings) -> anyhow::Result<Workload> {
        let Some(build) = &config.built else {
            bail!(
                "`--turns` builds each turn's body: a CSV rendered into a body of your own cannot"
            );
        };
        let tokenizer = Tokenizer::from_spec(&config.tokenizer)?;
        let (turns, dataset) = match (&config.synthetic, &config.data_source) {
            (Some(synthetic), _) => {
                let shared = synthetic.shared_prefix;
                let turns = sessions::Turns::Synthetic {
                    first_prompts: synthetic::exact_prompts(&tokenizer, shared)?,
                    later_prompts: (shared > 0).then(|| Prompts::new(&tokenizer, 0)),
                    first: synthetic.input,
                    later: settings.turn_input.unwrap_or(synthetic.input),
                };
                (turns, None)
            }
            (None, Some(source)) => {
                let dataset = Dataset::read(source)?;
                let about = (dataset.format(), dataset.len());
                // Checks that the records can be built (and loads the tokenizer's tables).
                let checked = DatasetBodies::new(dataset, build, tokenizer, &source.file)?;
                (sessions::Turns::Dataset(checked.into_dataset()), Some(about))
            }
            (None, None) => bail!("`--turns` needs `--input-tokens` or `--dataset`"),
        };
        if turns_need_protocol(&turns) && !build.can_build() {
            bail!(
                "`--turns`: no body can be built for the {} protocol; give --format",
                build.protocol.name()
            );
        }
        let sessions = Arc::new(sessions::Sessions::new(turns, settings, build));
        let spec = render(config, &|_| None)?;
        Ok(Workload { specs: vec![spec], sessions: Some(sessions), dataset, ..Workload::default() })
    }

    /// A trace replay's schedule (each row's offset from the start) and summary.
    pub fn trace(&self) -> Option<(Vec<std::time::Duration>, &trace::TraceSummary)> {
        self.trace.as_ref().map(|t| (t.schedule(), t.summary()))
    }

    /// The sessions, when each job is a conversation.
    pub fn sessions(&self) -> Option<Arc<dyn SessionSource>> {
        self.sessions.clone().map(|s| s as Arc<dyn SessionSource>)
    }

    /// The requests the conversations numbered `sessions` send (every turn of each).
    pub fn requests_in(&self, sessions: impl IntoIterator<Item = u64>) -> Option<u64> {
        let source = self.sessions.as_ref()?;
        Some(sessions.into_iter().map(|s| u64::from(source.turns(s))).sum())
    }

    /// Requests whose bodies `bodies` makes: the URL and headers rendered once.
    fn built(
        config: &Config,
        bodies: Arc<dyn BodySource>,
        dataset: Option<(DatasetFormat, usize)>,
    ) -> anyhow::Result<Workload> {
        let spec = render(config, &|_| None)?;
        Ok(Workload { specs: vec![spec], bodies: Some(bodies), dataset, ..Workload::default() })
    }

    /// The original tool's CSV with a body of one's own: one request a row, `{{column}}`
    /// placeholders filled, shuffled when asked.
    fn from_csv(config: &Config, source: &DataSource) -> anyhow::Result<Workload> {
        let table = csv::read_table(&source.file, &source.encoding)?;
        let columns = available_columns(source, &table.headers)?;
        check_placeholders(config, source, &columns)?;

        let mut specs = Vec::with_capacity(table.rows.len());
        for row in &table.rows {
            let lookup = |name: &str| columns.get(name).and_then(|&i| row.fields.get(i));
            let spec = render(config, &lookup)
                .map_err(|e| anyhow::anyhow!("{}:{}: {e}", source.file.display(), row.line))?;
            specs.push(spec);
        }
        if let Some(seed) = source.shuffle {
            dataset::shuffle(&mut specs, seed);
        }
        let dataset = Some((DatasetFormat::Csv, specs.len()));
        Ok(Workload { specs, dataset, ..Workload::default() })
    }

    /// The dataset's format as read and its number of records, when there is one.
    pub fn dataset(&self) -> Option<(DatasetFormat, usize)> {
        self.dataset
    }

    /// The body of each request number, when the workload makes one per request.
    pub fn bodies(&self) -> Option<Arc<dyn BodySource>> {
        self.bodies.clone()
    }

    /// The request for 0-based request number `index` (rows cycle).
    pub fn request(&self, index: u64) -> &RequestSpec {
        &self.specs[(index % self.specs.len() as u64) as usize]
    }

    /// Every distinct request, in order (the engine cycles them).
    pub fn specs(&self) -> &[RequestSpec] {
        &self.specs
    }

    /// Number of distinct requests (CSV rows, or 1 without a data source).
    pub fn len(&self) -> usize {
        self.specs.len()
    }

    /// Always false: a workload holds at least one request.
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }
}

/// Column name → index of the columns placeholders may use: all of them, or only
/// `data_source.column` when set (the original tool's rule). A repeated name means its last column,
/// as Python's `csv.DictReader` (the original tool's reader) does.
fn available_columns(
    source: &DataSource,
    headers: &[String],
) -> anyhow::Result<HashMap<String, usize>> {
    let mut all: HashMap<String, usize> = HashMap::new();
    for (i, name) in headers.iter().enumerate() {
        all.insert(name.clone(), i);
    }
    let Some(column) = &source.column else {
        return Ok(all);
    };
    match all.get(column.trim()) {
        Some(&i) => Ok(HashMap::from([(column.trim().to_string(), i)])),
        None => {
            let hint = match closest(column, headers.iter().map(String::as_str)) {
                Some(k) => format!(" — did you mean `{k}`?"),
                None => String::new(),
            };
            bail!(
                "{}: `data_source.column` {column:?} is not a column of the file (the header has: {}){hint}",
                source.file.display(),
                headers.join(", ")
            )
        }
    }
}

/// Fails on the first placeholder (in url, headers or body) that names no available column.
fn check_placeholders(
    config: &Config,
    source: &DataSource,
    columns: &HashMap<String, usize>,
) -> anyhow::Result<()> {
    let mut found: Vec<(String, String)> = Vec::new();
    for name in template::names(&config.url) {
        found.push((name.to_string(), "`url`".to_string()));
    }
    for (header, value) in &config.headers {
        for name in template::names(value) {
            found.push((name.to_string(), format!("header `{header}`")));
        }
    }
    if let Some(body) = &config.body {
        let mut in_body = Vec::new();
        template::json_names(body, "body", &mut in_body);
        found.extend(in_body.into_iter().map(|(n, path)| (n, format!("`{path}`"))));
    }
    let Some((name, place)) = found.iter().find(|(n, _)| !columns.contains_key(n)) else {
        return Ok(());
    };
    let mut available: Vec<&str> = columns.keys().map(String::as_str).collect();
    available.sort_unstable();
    let limited = match &source.column {
        Some(_) => " (`data_source.column` limits placeholders to that column)",
        None => "",
    };
    let hint = match closest(name, available.iter().copied()) {
        Some(k) => format!(" — did you mean `{{{{{k}}}}}`?"),
        None => String::new(),
    };
    bail!(
        "placeholder `{{{{{name}}}}}` in {place} names no column of {} (available: {}{limited}){hint}",
        source.file.display(),
        available.join(", ")
    )
}

/// Whether synthetic turns are asked for: they always need a body built.
fn turns_need_protocol(turns: &sessions::Turns) -> bool {
    matches!(turns, sessions::Turns::Synthetic { .. })
}

/// The one of `known` closest to `name`, if it is close enough to be a likely typo.
fn closest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    known
        .map(|k| (strsim::jaro_winkler(name, k), k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// The request with placeholders filled by `lookup` (kept as written where it gives `None`).
fn render<'v>(
    config: &Config,
    lookup: &dyn Fn(&str) -> Option<&'v str>,
) -> anyhow::Result<RequestSpec> {
    let url = template::replace_all(&config.url, lookup);
    if url != config.url && url::Url::parse(&url).is_err() {
        bail!("the URL with this row's values is not valid: {url:?}");
    }
    let mut headers = Vec::with_capacity(config.headers.len());
    for (name, value) in &config.headers {
        let value = template::replace_all(value, lookup);
        if http::HeaderValue::from_str(&value).is_err() {
            bail!(
                "header `{name}` with this row's values is not a valid HTTP header value (a line break?)"
            );
        }
        headers.push((name.clone(), value));
    }
    let body = match &config.body {
        Some(body) => Bytes::from(serde_json::to_vec(&template::render_json(body, &lookup))?),
        None => Bytes::new(),
    };
    Ok(RequestSpec { url, headers, body })
}
