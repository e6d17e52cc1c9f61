//! The bodies streamperf builds: `--input-tokens` and `--dataset` with their companions
//! (`--output-tokens`, `--model`, …), checked against the rest of the flags (a body of one's
//! own, the protocol, the model).

use anyhow::bail;
use serde_json::Value;

use crate::cli::RunArgs;
use crate::measure::protocol::Protocol;
use crate::plan::config::load::parse_duration;
use crate::plan::config::{
    BuildSettings, DataSource, DatasetFormat, FormatKind, StreamFormat, SyntheticSettings,
};
use crate::plan::workload::prompts::LengthSpec;
use crate::plan::workload::replay::TraceSettings;
use crate::plan::workload::sessions::SessionSettings;
use crate::plan::workload::trace::{DEFAULT_BLOCK_TOKENS, TraceFormat};

/// The synthetic prompts' settings (with `--input-tokens`) and how bodies are built (with
/// `--input-tokens`, or a dataset that is not a CSV rendered into a body of one's own).
/// `own_body`: the body from `--body` or the config file, which must then say where the
/// prompt goes (`{{prompt}}`).
pub(super) fn built_bodies(
    args: &RunArgs,
    own_body: Option<&Value>,
    url: &str,
    format: &StreamFormat,
    data_source: Option<&DataSource>,
) -> anyhow::Result<(Option<SyntheticSettings>, Option<BuildSettings>)> {
    // A trace's rows are built like a dataset's records.
    let dataset_builds =
        data_source.is_some_and(|ds| own_body.is_none() || !is_csv(ds)) || args.trace.is_some();
    if args.input_tokens.is_some() && data_source.is_some() {
        bail!("`--input-tokens` and a dataset both give the prompts: choose one");
    }
    if args.input_tokens.is_none() && args.shared_prefix_tokens.is_some() {
        bail!("`--shared-prefix-tokens` shapes synthetic prompts: add `--input-tokens N`");
    }
    if args.input_tokens.is_none() && !dataset_builds {
        let companions = [
            ("--output-tokens", args.output_tokens.is_some()),
            ("--model", args.model.is_some()),
            ("--allow-early-stop", args.allow_early_stop),
        ];
        if let Some((flag, _)) = companions.iter().find(|(_, given)| *given) {
            bail!(
                "`{flag}` shapes the body streamperf builds: add `--input-tokens N` or \
                 `--dataset FILE` (a CSV with a body of your own is sent as rendered)"
            );
        }
        return Ok((None, None));
    }
    let template = match own_body {
        Some(body) if is_template(body) => Some(body.clone()),
        Some(_) => bail!(
            "a body of your own with {}: put `{{{{prompt}}}}` where the prompt goes (and \
             `{{{{max_tokens}}}}` for the length), or drop the body to have one built",
            match (&args.input_tokens, &args.trace) {
                (Some(_), _) => "`--input-tokens`",
                (None, Some(_)) => "`--trace`",
                (None, None) => "a dataset",
            }
        ),
        None => None,
    };
    let synthetic = match &args.input_tokens {
        Some(input) => Some(SyntheticSettings {
            input: LengthSpec::parse(input, "--input-tokens")?,
            shared_prefix: args.shared_prefix_tokens.unwrap_or(0),
        }),
        None => None,
    };
    // Synthetic prompts always need a body built; a dataset may hold whole bodies, so its
    // protocol is checked when a record needs one (`DatasetBodies::new`).
    let protocol = match (&template, &synthetic) {
        (None, Some(_)) => protocol(url, format)?,
        _ => protocol(url, format).unwrap_or(Protocol::Generic),
    };
    let model = match (&args.model, protocol) {
        (Some(model), _) => model.clone(),
        (None, Protocol::Anthropic | Protocol::Ollama) if template.is_none() => bail!(
            "{} builds the request: name the served model with `--model`",
            if synthetic.is_some() { "`--input-tokens`" } else { "a dataset of prompts" }
        ),
        // The model is in Gemini's URL; Dify and TGI serve one app or model; OpenAI-compatible
        // servers list theirs, and the run asks before it starts; a template names its own.
        (None, _) => String::new(),
    };
    let build = BuildSettings {
        output: args
            .output_tokens
            .as_deref()
            .map(|o| LengthSpec::parse(o, "--output-tokens"))
            .transpose()?,
        model,
        model_listed: false,
        protocol,
        allow_early_stop: args.allow_early_stop,
        template,
    };
    Ok((synthetic, Some(build)))
}

/// `--turns` and its companions: multi-turn sessions of synthetic prompts (`--input-tokens`)
/// or of a conversation dataset; `None` without `--turns`.
pub(super) fn session_settings(
    args: &RunArgs,
    synthetic: bool,
    dataset: bool,
) -> anyhow::Result<Option<SessionSettings>> {
    let Some(turns) = args.turns.as_deref().map(str::trim) else {
        let companions = [
            ("--turn-input-tokens", args.turn_input_tokens.is_some()),
            ("--think-time", args.think_time.is_some()),
        ];
        if let Some((flag, _)) = companions.iter().find(|(_, given)| *given) {
            bail!("`{flag}` shapes multi-turn sessions: add `--turns N`");
        }
        return Ok(None);
    };
    let turns = match turns {
        "all" if synthetic => bail!(
            "`--turns all` takes every turn of a conversation dataset; with --input-tokens give a number"
        ),
        "all" => None,
        n => match n.parse::<u32>() {
            Ok(n) if n >= 1 => Some(n),
            _ => bail!("`--turns {n}`: expected a number of turns (1 or more) or `all`"),
        },
    };
    if !synthetic && !dataset {
        bail!(
            "`--turns` needs the turns' prompts: `--input-tokens N` or a conversation `--dataset`"
        );
    }
    if args.turn_input_tokens.is_some() && !synthetic {
        bail!("`--turn-input-tokens` sets synthetic turns' length: add `--input-tokens N`");
    }
    let turn_input = args
        .turn_input_tokens
        .as_deref()
        .map(|t| LengthSpec::parse(t, "--turn-input-tokens"))
        .transpose()?;
    let think = match args.think_time.as_deref().map(str::trim) {
        None => (std::time::Duration::ZERO, std::time::Duration::ZERO),
        Some(text) => match text.split_once("..") {
            Some((low, high)) => {
                let (low, high) =
                    (parse_duration(low, "--think-time")?, parse_duration(high, "--think-time")?);
                if high < low {
                    bail!("`--think-time {text}`: the range's end is before its start");
                }
                (low, high)
            }
            None => {
                let pause = parse_duration(text, "--think-time")?;
                (pause, pause)
            }
        },
    };
    Ok(Some(SessionSettings { turns, turn_input, think, count: None }))
}

/// `--trace` and its companions; `None` without `--trace`. A trace brings its own prompts and
/// its own schedule, so the flags that give either are errors beside it.
pub(super) fn trace_settings(args: &RunArgs) -> anyhow::Result<Option<TraceSettings>> {
    let Some(file) = &args.trace else {
        let companions = [
            ("--trace-format", args.trace_format.is_some()),
            ("--trace-speedup", args.trace_speedup.is_some()),
            ("--trace-window", args.trace_window.is_some()),
            ("--trace-block-tokens", args.trace_block_tokens.is_some()),
        ];
        if let Some((flag, _)) = companions.iter().find(|(_, given)| *given) {
            bail!("`{flag}` shapes a trace replay: add `--trace FILE`");
        }
        return Ok(None);
    };
    let rivals = [
        ("--input-tokens", args.input_tokens.is_some()),
        ("--dataset", args.dataset.is_some()),
        ("--turns", args.turns.is_some()),
        ("--rate", !args.rate.is_empty()),
        ("--arrival", args.arrival.is_some()),
        ("--ramp-up", args.ramp_up.is_some()),
    ];
    if let Some((flag, _)) = rivals.iter().find(|(_, given)| *given) {
        bail!("`{flag}` and `--trace` both say what to send or when: a trace brings both");
    }
    let speedup = args.trace_speedup.unwrap_or(1.0);
    if !(speedup.is_finite() && speedup > 0.0) {
        bail!("`--trace-speedup` must be a positive number, got {speedup}");
    }
    let window = match args.trace_window.as_deref().map(str::trim) {
        None => (std::time::Duration::ZERO, None),
        Some(text) => {
            let Some((start, end)) = text.split_once("..") else {
                bail!("`--trace-window {text}`: expected START..END (e.g. 10m..20m, or 30s..)");
            };
            let start = match start.trim() {
                "" => std::time::Duration::ZERO,
                s => parse_duration(s, "--trace-window")?,
            };
            let end = match end.trim() {
                "" => None,
                e => Some(parse_duration(e, "--trace-window")?),
            };
            if end.is_some_and(|end| end <= start) {
                bail!("`--trace-window {text}`: the end must come after the start");
            }
            (start, end)
        }
    };
    let format = args.trace_format.as_deref().map(TraceFormat::parse).transpose();
    let format = format.map_err(|e| anyhow::anyhow!("`--trace-format`: {e}"))?;
    let block_tokens = args.trace_block_tokens.unwrap_or(DEFAULT_BLOCK_TOKENS);
    if block_tokens == 0 {
        bail!("`--trace-block-tokens` must be at least 1");
    }
    Ok(Some(TraceSettings { file: file.clone(), format, speedup, window, block_tokens }))
}

/// Whether a body of one's own says where the prompt goes.
fn is_template(body: &Value) -> bool {
    let text = body.to_string();
    text.contains("{{prompt}}") || text.contains("{{messages}}")
}

/// Whether the data source is the original tool's CSV (named so, or a `.csv` file).
fn is_csv(source: &DataSource) -> bool {
    let format = source.format.or_else(|| DatasetFormat::from_extension(&source.file));
    format == Some(DatasetFormat::Csv)
}

/// `--format`'s protocol, else the one the URL's path names.
fn protocol(url: &str, format: &StreamFormat) -> anyhow::Result<Protocol> {
    if let FormatKind::Protocol(p) = format.kind {
        return Ok(p);
    }
    let path = url::Url::parse(url).map(|u| u.path().to_owned()).unwrap_or_default();
    match Protocol::from_url_path(&path) {
        Some(p) => Ok(p),
        None => bail!(
            "`--input-tokens`: the URL's path `{path}` names no protocol; give one with \
             `--format` ({})",
            Protocol::ALL
                .iter()
                .filter(|p| **p != Protocol::Generic)
                .map(|p| p.name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn resolve(args: RunArgs, has_body: bool, url: &str) -> anyhow::Result<Option<BuildSettings>> {
        let body = serde_json::json!({"model": "m", "prompt": "fixed"});
        let own = has_body.then_some(&body);
        Ok(built_bodies(&args, own, url, &StreamFormat::default(), None)?.1)
    }

    fn input(n: &str) -> RunArgs {
        RunArgs { input_tokens: Some(n.into()), model: Some("m".into()), ..RunArgs::default() }
    }

    fn dataset(file: &str) -> DataSource {
        DataSource {
            file: PathBuf::from(file),
            format: None,
            shuffle: None,
            column: None,
            encoding: "utf-8".into(),
        }
    }

    #[test]
    fn the_protocol_comes_from_the_url_or_the_format() {
        let url = "http://h/v1/chat/completions";
        let (synthetic, built) =
            built_bodies(&input("1024"), None, url, &StreamFormat::default(), None).unwrap();
        assert_eq!(synthetic.unwrap().input, LengthSpec::Exactly(1024));
        assert_eq!(built.unwrap().protocol, Protocol::OpenAiChat);
        let s = resolve(input("10"), false, "http://h/v1/messages").unwrap().unwrap();
        assert_eq!(s.protocol, Protocol::Anthropic);
        let e = resolve(input("10"), false, "http://h/custom").unwrap_err().to_string();
        assert!(e.contains("names no protocol") && e.contains("--format"), "{e}");
        let format =
            StreamFormat { kind: FormatKind::Protocol(Protocol::Ollama), ..Default::default() };
        let (_, s) = built_bodies(&input("10"), None, "http://h/custom", &format, None).unwrap();
        assert_eq!(s.unwrap().protocol, Protocol::Ollama);
    }

    #[test]
    fn misuses_are_named() {
        let e = resolve(input("10"), true, "http://h/v1/chat/completions").unwrap_err();
        assert!(e.to_string().contains("put `{{prompt}}` where the prompt goes"), "{e}");
        let template = serde_json::json!({"prompt": "{{prompt}}", "n": "{{max_tokens}}"});
        let no_model = RunArgs { model: None, ..input("10") };
        let f = StreamFormat::default();
        let (_, s) = built_bodies(&no_model, Some(&template), "http://h/x", &f, None).unwrap();
        assert_eq!(s.unwrap().template, Some(template), "any URL, no --model");
        let no_model = RunArgs { model: None, ..input("10") };
        let e = resolve(no_model.clone(), false, "http://h/v1/messages").unwrap_err();
        assert!(e.to_string().contains("--model"), "{e}");
        let listed = resolve(no_model.clone(), false, "http://h/v1/chat/completions").unwrap();
        assert_eq!(listed.unwrap().model, "", "asked of the server when the run starts");
        assert!(resolve(no_model, false, "http://h/v1beta/models/g:streamGenerateContent").is_ok());
        let lone = RunArgs { output_tokens: Some("5".into()), ..RunArgs::default() };
        let e = resolve(lone, false, "http://h/v1/chat/completions").unwrap_err().to_string();
        assert!(e.starts_with("`--output-tokens` shapes the body"), "{e}");
        let bad = RunArgs { output_tokens: Some("lots".into()), ..input("10") };
        let e = resolve(bad, false, "http://h/v1/chat/completions").unwrap_err().to_string();
        assert!(e.starts_with("`--output-tokens lots`"), "{e}");
        assert_eq!(resolve(RunArgs::default(), false, "http://h/x").unwrap(), None);
    }

    #[test]
    fn a_dataset_builds_bodies_unless_it_is_a_csv_rendered_into_ones_own() {
        let url = "http://h/v1/chat/completions";
        let f = StreamFormat::default();
        let none = RunArgs::default();
        let (_, built) = built_bodies(&none, None, url, &f, Some(&dataset("d.jsonl"))).unwrap();
        assert_eq!(built.unwrap().protocol, Protocol::OpenAiChat);
        let (_, built) =
            built_bodies(&none, None, "http://h/x", &f, Some(&dataset("d.txt"))).unwrap();
        assert_eq!(built.unwrap().protocol, Protocol::Generic, "checked per record");
        let body = serde_json::json!({"q": "{{question}}"});
        let csv = built_bodies(&none, Some(&body), url, &f, Some(&dataset("d.csv"))).unwrap();
        assert_eq!(csv, (None, None), "the original tool's CSV");
        let e = built_bodies(&none, Some(&body), url, &f, Some(&dataset("d.jsonl"))).unwrap_err();
        assert!(e.to_string().starts_with("a body of your own with a dataset"), "{e}");
        let e = built_bodies(&input("5"), None, url, &f, Some(&dataset("d.jsonl"))).unwrap_err();
        assert!(e.to_string().contains("choose one"), "{e}");
        let e = built_bodies(&none, None, "http://h/api/chat", &f, Some(&dataset("d.jsonl")));
        assert!(e.unwrap_err().to_string().contains("--model"));
    }
}
