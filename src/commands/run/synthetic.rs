//! `--input-tokens` and its companions: the synthetic workload's settings, checked against the
//! rest of the flags (a body of one's own, the protocol, the model).

use anyhow::bail;
use serde_json::Value;

use crate::cli::RunArgs;
use crate::measure::protocol::Protocol;
use crate::plan::config::{FormatKind, StreamFormat, SyntheticSettings};
use crate::plan::workload::prompts::LengthSpec;

/// The settings, or `None` without `--input-tokens`. `own_body`: the body from `--body` or the
/// config file, which must then say where the prompt goes (`{{prompt}}`).
pub(super) fn synthetic_settings(
    args: &RunArgs,
    own_body: Option<&Value>,
    url: &str,
    format: &StreamFormat,
) -> anyhow::Result<Option<SyntheticSettings>> {
    let Some(input) = &args.input_tokens else {
        let companions = [
            ("--output-tokens", args.output_tokens.is_some()),
            ("--shared-prefix-tokens", args.shared_prefix_tokens.is_some()),
            ("--model", args.model.is_some()),
            ("--allow-early-stop", args.allow_early_stop),
        ];
        if let Some((flag, _)) = companions.iter().find(|(_, given)| *given) {
            bail!("`{flag}` shapes the body streamperf builds: add `--input-tokens N`");
        }
        return Ok(None);
    };
    let template = match own_body {
        Some(body) if body.to_string().contains("{{prompt}}") => Some(body.clone()),
        Some(_) => bail!(
            "`--input-tokens` with a body of your own: put `{{{{prompt}}}}` where the prompt goes \
             (and `{{{{max_tokens}}}}` for the length), or drop the body to have one built"
        ),
        None => None,
    };
    let protocol = match template {
        Some(_) => protocol(url, format).unwrap_or(Protocol::Generic),
        None => protocol(url, format)?,
    };
    let model = match (&args.model, protocol) {
        (Some(model), _) => model.clone(),
        (None, _) if template.is_some() => String::new(),
        // The model is in Gemini's URL; Dify and TGI serve one app or model; OpenAI-compatible
        // servers list theirs, and the run asks before it starts.
        (
            None,
            Protocol::Gemini
            | Protocol::Dify
            | Protocol::Tgi
            | Protocol::OpenAiChat
            | Protocol::OpenAiCompletions
            | Protocol::OpenAiResponses,
        ) => String::new(),
        (None, _) => {
            bail!("`--input-tokens` builds the request: name the served model with `--model`")
        }
    };
    Ok(Some(SyntheticSettings {
        input: LengthSpec::parse(input, "--input-tokens")?,
        output: args
            .output_tokens
            .as_deref()
            .map(|o| LengthSpec::parse(o, "--output-tokens"))
            .transpose()?,
        shared_prefix: args.shared_prefix_tokens.unwrap_or(0),
        model,
        model_listed: false,
        protocol,
        allow_early_stop: args.allow_early_stop,
        template,
    }))
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
    use super::*;

    fn resolve(
        args: RunArgs,
        has_body: bool,
        url: &str,
    ) -> anyhow::Result<Option<SyntheticSettings>> {
        let body = serde_json::json!({"model": "m", "prompt": "fixed"});
        synthetic_settings(&args, has_body.then_some(&body), url, &StreamFormat::default())
    }

    fn input(n: &str) -> RunArgs {
        RunArgs { input_tokens: Some(n.into()), model: Some("m".into()), ..RunArgs::default() }
    }

    #[test]
    fn the_protocol_comes_from_the_url_or_the_format() {
        let s = resolve(input("1024"), false, "http://h/v1/chat/completions").unwrap().unwrap();
        assert_eq!((s.protocol, s.input), (Protocol::OpenAiChat, LengthSpec::Exactly(1024)));
        let s = resolve(input("10"), false, "http://h/v1/messages").unwrap().unwrap();
        assert_eq!(s.protocol, Protocol::Anthropic);
        let e = resolve(input("10"), false, "http://h/custom").unwrap_err().to_string();
        assert!(e.contains("names no protocol") && e.contains("--format"), "{e}");
        let format =
            StreamFormat { kind: FormatKind::Protocol(Protocol::Ollama), ..Default::default() };
        let s =
            synthetic_settings(&input("10"), None, "http://h/custom", &format).unwrap().unwrap();
        assert_eq!(s.protocol, Protocol::Ollama);
    }

    #[test]
    fn misuses_are_named() {
        let e = resolve(input("10"), true, "http://h/v1/chat/completions").unwrap_err();
        assert!(e.to_string().contains("put `{{prompt}}` where the prompt goes"), "{e}");
        let template = serde_json::json!({"prompt": "{{prompt}}", "n": "{{max_tokens}}"});
        let no_model = RunArgs { model: None, ..input("10") };
        let s =
            synthetic_settings(&no_model, Some(&template), "http://h/x", &StreamFormat::default());
        assert_eq!(s.unwrap().unwrap().template, Some(template), "any URL, no --model");
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
}
