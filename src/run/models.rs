//! The model of built bodies when `--model` is not given: OpenAI-compatible servers list
//! theirs at `GET …/v1/models` (vLLM, SGLang, llama.cpp serve one), and the first is used,
//! said on the console and in the result file's `config.built_bodies`.

use anyhow::bail;
use serde_json::Value;

use crate::i18n::Lang;
use crate::measure::engine::fetch;
use crate::measure::protocol::Protocol;
use crate::plan::config::Config;

/// `config` with the served model filled in, when its built bodies need one and lack it.
pub(super) async fn with_served_model(config: &Config) -> anyhow::Result<Option<Config>> {
    let Some(built) = &config.built else { return Ok(None) };
    let openai = matches!(
        built.protocol,
        Protocol::OpenAiChat | Protocol::OpenAiCompletions | Protocol::OpenAiResponses
    );
    if !built.model.is_empty() || built.template.is_some() || !openai {
        return Ok(None);
    }
    let url = models_url(&config.url);
    let shown = config.redactor.redact(&url);
    let (status, body) =
        fetch::get(&config.engine_settings(), &url, &config.headers).await.map_err(|e| {
            anyhow::anyhow!("no --model, and GET {shown} failed: {e}; name the model with --model")
        })?;
    let first = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["data"][0]["id"].as_str().map(str::to_owned));
    let Some(model) = first.filter(|_| status == 200) else {
        bail!("no --model, and GET {shown} (status {status}) lists no model; name it with --model");
    };
    crate::outln!(
        "{}",
        match config.lang {
            Lang::En => format!("model: {model} (the first that GET {shown} lists)"),
            Lang::Zh => format!("模型:{model}(GET {shown} 列出的第一个)"),
        }
    );
    let mut config = config.clone();
    if let Some(s) = config.built.as_mut() {
        s.model = model;
        s.model_listed = true;
    }
    Ok(Some(config))
}

/// The models list beside an OpenAI-style endpoint: `…/v1/chat/completions` → `…/v1/models`.
fn models_url(url: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, ""), |(b, q)| (b, q));
    let base = base.trim_end_matches('/');
    let root = ["/chat/completions", "/completions", "/responses"]
        .iter()
        .find_map(|tail| base.strip_suffix(tail))
        .unwrap_or(base);
    match query {
        "" => format!("{root}/models"),
        q => format!("{root}/models?{q}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_sits_beside_the_endpoint() {
        assert_eq!(models_url("http://h:8000/v1/chat/completions"), "http://h:8000/v1/models");
        assert_eq!(models_url("https://h/openai/v1/completions/"), "https://h/openai/v1/models");
        assert_eq!(
            models_url("http://h/v1/responses?api-version=1"),
            "http://h/v1/models?api-version=1"
        );
    }
}
