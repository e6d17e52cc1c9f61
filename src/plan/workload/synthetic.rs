//! The standard benchmark's workload: every request a synthetic prompt of a drawn length in
//! the body its protocol streams with, asking for a drawn output length
//! (`--input-tokens`, `--output-tokens`). Bodies are made per request number, just before the
//! request's clock starts (the engine's [`BodySource`]), so a run of any length holds no
//! prompt but the one being sent, and no two requests share a prompt prefix.

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::bodies::Message;
use super::built::BuildSettings;
use super::prompts::{LengthSpec, Prompts};
use crate::measure::engine::{BodySource, MadeBody};
use crate::measure::tokens::Tokenizer;

/// What `--input-tokens` and `--shared-prefix-tokens` ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticSettings {
    /// The prompt's length in tokens of the run's tokenizer.
    pub input: LengthSpec,
    /// Tokens every prompt shares at its start (`--shared-prefix-tokens`).
    pub shared_prefix: u64,
}

impl SyntheticSettings {
    /// The settings as the result file's `config.synthetic`.
    pub fn view(&self) -> serde_json::Value {
        serde_json::json!({
            "input_tokens": self.input.to_string(),
            "shared_prefix_tokens": self.shared_prefix,
        })
    }
}

/// Makes request `i`'s body: its lengths drawn from a generator seeded by `i`, its prompt cut
/// from the corpus, its body built for the protocol.
#[derive(Debug)]
pub struct Synthetic {
    settings: SyntheticSettings,
    build: BuildSettings,
    prompts: Prompts,
}

impl Synthetic {
    /// Cuts and counts the corpus ([`exact_prompts`]); fails when no body can be built.
    pub fn new(
        settings: &SyntheticSettings,
        build: &BuildSettings,
        tokenizer: &Tokenizer,
    ) -> anyhow::Result<Synthetic> {
        let prompts = exact_prompts(tokenizer, settings.shared_prefix)?;
        if !build.can_build() {
            anyhow::bail!(
                "`--input-tokens`: no body can be built for the {} protocol; give --format",
                build.protocol.name()
            );
        }
        Ok(Synthetic { settings: settings.clone(), build: build.clone(), prompts })
    }
}

/// The corpus cut and counted with `tokenizer` (about 20 ms), checked to cut one prompt to
/// exactly the length asked, so that a tokenizer that does not split at spaces is an error
/// before anything is sent rather than prompts of the wrong length.
pub fn exact_prompts(tokenizer: &Tokenizer, shared_prefix: u64) -> anyhow::Result<Prompts> {
    let prompts = Prompts::new(tokenizer, shared_prefix);
    let probe = shared_prefix + 300;
    let counted = prompts.tokenizer().count(&prompts.prompt(0, probe));
    if counted != Some(probe) {
        anyhow::bail!(
            "`--input-tokens`: the tokenizer {} cannot cut prompts to an exact length \
             (a {probe}-token prompt counted {counted:?}); use o200k_base, cl100k_base or chars",
            prompts.tokenizer().name()
        );
    }
    Ok(prompts)
}

impl BodySource for Synthetic {
    fn body(&self, index: u64) -> MadeBody {
        // Seeded by the request number: request i draws the same lengths on every run.
        let mut rng = StdRng::seed_from_u64(index);
        let input = self.settings.input.sample(&mut rng);
        let output = self.build.output.map(|o| o.sample(&mut rng));
        let prompt = [Message::user(self.prompts.prompt(index, input))];
        let bytes = self.build.build(&prompt, output);
        // A template's own text is not counted: only the prompt's length is known exactly.
        let input_tokens = self.build.template.is_none().then_some(input);
        MadeBody { bytes, output_tokens: output, input_tokens, headers: Vec::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::protocol::Protocol;

    fn synthetic(input: &str, output: Option<&str>, build: BuildSettings) -> Synthetic {
        let settings = SyntheticSettings {
            input: LengthSpec::parse(input, "--input-tokens").unwrap(),
            shared_prefix: 0,
        };
        let output = output.map(|o| LengthSpec::parse(o, "--output-tokens").unwrap());
        Synthetic::new(&settings, &BuildSettings { output, ..build }, &Tokenizer::O200kBase)
            .unwrap()
    }

    fn chat() -> BuildSettings {
        BuildSettings {
            output: None,
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
        let synthetic = synthetic("200..400", Some("50"), chat());
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
        let b = body(
            &synthetic("100", Some("20"), BuildSettings { template: Some(template), ..chat() }),
            3,
        );
        assert_eq!(b["max_new"], 20);
        let user = b["messages"][1]["content"].as_str().unwrap();
        let prompt = user.strip_prefix("Summarise: ").unwrap();
        assert_eq!(Tokenizer::O200kBase.count(prompt), Some(100));
        assert_eq!(b["messages"][0]["content"], "Be brief.");
        assert!(b.get("ignore_eos").is_none(), "the template is the user's");
    }

    #[test]
    fn a_tokenizer_or_protocol_that_cannot_do_it_is_an_error_up_front() {
        let settings = SyntheticSettings { input: LengthSpec::Exactly(10), shared_prefix: 0 };
        let generic = BuildSettings { protocol: Protocol::Generic, ..chat() };
        let e = Synthetic::new(&settings, &generic, &Tokenizer::O200kBase).unwrap_err().to_string();
        assert!(e.contains("no body can be built for the generic protocol"), "{e}");
    }
}
