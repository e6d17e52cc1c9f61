//! The standard benchmark's workload: every request a synthetic prompt of a drawn length in
//! the body its protocol streams with, asking for a drawn output length
//! (`--input-tokens`, `--output-tokens`). Bodies are made per request number, just before the
//! request's clock starts (the engine's [`BodySource`]), so a run of any length holds no
//! prompt but the one being sent, and no two requests share a prompt prefix.

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::bodies::{Ask, body_for};
use super::prompts::{LengthSpec, Prompts};
use crate::measure::engine::{BodySource, MadeBody};
use crate::measure::protocol::Protocol;
use crate::measure::tokens::Tokenizer;

/// What `--input-tokens` and its companions ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticSettings {
    /// The prompt's length in tokens of the run's tokenizer.
    pub input: LengthSpec,
    /// The output length asked for; `None` leaves it to the server.
    pub output: Option<LengthSpec>,
    /// Tokens every prompt shares at its start (`--shared-prefix-tokens`).
    pub shared_prefix: u64,
    /// The model named in the body (`--model`); empty until the run asks the server for it.
    pub model: String,
    /// The model came from the server's models list, not from `--model`.
    pub model_listed: bool,
    /// The protocol the body is built for (`--format`, else the URL's path).
    pub protocol: Protocol,
    /// Let servers stop before the output length (`--allow-early-stop`).
    pub allow_early_stop: bool,
    /// The user's own body with `{{prompt}}` (and `{{max_tokens}}`) where they go, instead of
    /// the body built for the protocol.
    pub template: Option<serde_json::Value>,
}

impl SyntheticSettings {
    /// The settings as the result file's `config.synthetic`.
    pub fn view(&self) -> serde_json::Value {
        serde_json::json!({
            "input_tokens": self.input.to_string(),
            "output_tokens": self.output.map(|o| o.to_string()),
            "shared_prefix_tokens": self.shared_prefix,
            "model": self.model,
            "model_listed": self.model_listed,
            "protocol": self.protocol.name(),
            "allow_early_stop": self.allow_early_stop,
            "template": self.template.is_some(),
        })
    }
}

/// Makes request `i`'s body: its lengths drawn from a generator seeded by `i`, its prompt cut
/// from the corpus, its body built for the protocol.
#[derive(Debug)]
pub struct Synthetic {
    settings: SyntheticSettings,
    prompts: Prompts,
}

impl Synthetic {
    /// Cuts and counts the corpus with `tokenizer` (about 20 ms) and checks that one prompt
    /// counts as long as asked, so a tokenizer that does not split at spaces is an error
    /// before anything is sent rather than prompts of the wrong length.
    pub fn new(settings: &SyntheticSettings, tokenizer: &Tokenizer) -> anyhow::Result<Synthetic> {
        let prompts = Prompts::new(tokenizer, settings.shared_prefix);
        let probe = settings.shared_prefix + 300;
        let counted = prompts.tokenizer().count(&prompts.prompt(0, probe));
        if counted != Some(probe) {
            anyhow::bail!(
                "`--input-tokens`: the tokenizer {} cannot cut prompts to an exact length \
                 (a {probe}-token prompt counted {counted:?}); use o200k_base, cl100k_base or chars",
                prompts.tokenizer().name()
            );
        }
        if settings.template.is_none()
            && body_for(settings.protocol, &ask(settings, "", None)).is_none()
        {
            anyhow::bail!(
                "`--input-tokens`: no body can be built for the {} protocol; give --format",
                settings.protocol.name()
            );
        }
        Ok(Synthetic { settings: settings.clone(), prompts })
    }
}

impl BodySource for Synthetic {
    fn body(&self, index: u64) -> MadeBody {
        let s = &self.settings;
        // Seeded by the request number: request i draws the same lengths on every run.
        let mut rng = StdRng::seed_from_u64(index);
        let input = s.input.sample(&mut rng);
        let output = s.output.map(|o| o.sample(&mut rng));
        let prompt = self.prompts.prompt(index, input);
        let body = match &s.template {
            Some(template) => fill(template, &prompt, output),
            // `new` checked that this protocol has a body.
            None => body_for(s.protocol, &ask(s, &prompt, output)).unwrap_or_default().body,
        };
        let bytes = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
        // A template's own text is not counted: only the prompt's length is known exactly.
        let input_tokens = s.template.is_none().then_some(input);
        MadeBody { bytes, output_tokens: output, input_tokens }
    }
}

/// `template` with `{{prompt}}` and `{{max_tokens}}` filled in its strings; a string that is
/// only `{{max_tokens}}` becomes the number (JSON APIs want one), or `null` without a length.
fn fill(template: &serde_json::Value, prompt: &str, max_tokens: Option<u64>) -> serde_json::Value {
    use serde_json::Value;
    match template {
        Value::String(text) if text == "{{max_tokens}}" => {
            max_tokens.map_or(Value::Null, Value::from)
        }
        Value::String(text) => {
            let max = max_tokens.map(|n| n.to_string()).unwrap_or_default();
            Value::String(text.replace("{{prompt}}", prompt).replace("{{max_tokens}}", &max))
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| fill(v, prompt, max_tokens)).collect())
        }
        Value::Object(fields) => Value::Object(
            fields.iter().map(|(k, v)| (k.clone(), fill(v, prompt, max_tokens))).collect(),
        ),
        other => other.clone(),
    }
}

fn ask<'a>(s: &'a SyntheticSettings, prompt: &'a str, output: Option<u64>) -> Ask<'a> {
    Ask { model: &s.model, prompt, max_tokens: output, allow_early_stop: s.allow_early_stop }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(input: &str, output: Option<&str>) -> SyntheticSettings {
        SyntheticSettings {
            input: LengthSpec::parse(input, "--input-tokens").unwrap(),
            output: output.map(|o| LengthSpec::parse(o, "--output-tokens").unwrap()),
            shared_prefix: 0,
            model: "m".into(),
            model_listed: false,
            protocol: Protocol::OpenAiChat,
            allow_early_stop: false,
            template: None,
        }
    }

    fn body(synthetic: &Synthetic, index: u64) -> serde_json::Value {
        serde_json::from_slice(&synthetic.body(index).bytes).unwrap()
    }

    #[test]
    fn each_request_gets_its_own_prompt_of_the_drawn_length() {
        let tokenizer = Tokenizer::O200kBase;
        let synthetic = Synthetic::new(&settings("200..400", Some("50")), &tokenizer).unwrap();
        let mut prompts = Vec::new();
        for index in 0..20 {
            let b = body(&synthetic, index);
            let prompt = b["messages"][0]["content"].as_str().unwrap().to_owned();
            let tokens = tokenizer.count(&prompt).unwrap();
            assert!((200..=400).contains(&tokens), "{tokens}");
            assert_eq!(
                (b["max_tokens"].as_u64(), b["ignore_eos"].as_bool()),
                (Some(50), Some(true))
            );
            assert_eq!(b, body(&synthetic, index), "the same number, the same body");
            prompts.push(prompt);
        }
        prompts.sort();
        prompts.dedup();
        assert_eq!(prompts.len(), 20);
    }

    #[test]
    fn a_template_of_ones_own_gets_the_prompt_and_the_length_as_a_number() {
        let template = serde_json::json!({
            "model": "x", "stream": true, "max_new": "{{max_tokens}}",
            "messages": [{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": "Summarise: {{prompt}}"}],
        });
        let s = SyntheticSettings { template: Some(template), ..settings("100", Some("20")) };
        let b = body(&Synthetic::new(&s, &Tokenizer::O200kBase).unwrap(), 3);
        assert_eq!(b["max_new"], 20);
        let user = b["messages"][1]["content"].as_str().unwrap();
        let prompt = user.strip_prefix("Summarise: ").unwrap();
        assert_eq!(Tokenizer::O200kBase.count(prompt), Some(100));
        assert_eq!(b["messages"][0]["content"], "Be brief.");
        assert!(b.get("ignore_eos").is_none(), "the template is the user's");
    }

    #[test]
    fn a_tokenizer_or_protocol_that_cannot_do_it_is_an_error_up_front() {
        let generic = SyntheticSettings { protocol: Protocol::Generic, ..settings("10", None) };
        let e = Synthetic::new(&generic, &Tokenizer::O200kBase).unwrap_err().to_string();
        assert!(e.contains("no body can be built for the generic protocol"), "{e}");
    }
}
