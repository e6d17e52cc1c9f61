//! Multi-turn conversations (`--turns`): each session sends its user turns one after another,
//! every later turn carrying the earlier turns and the server's own replies to them, as the
//! protocol wants a conversation (message lists; Dify's `conversation_id`). The turns come
//! from a conversation dataset (ShareGPT's human turns, a `messages` record's user messages)
//! or are synthetic prompts of `--input-tokens`, then `--turn-input-tokens`.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::bodies::{Message, Role};
use super::built::BuildSettings;
use super::dataset::{Content, Dataset};
use super::prompts::{LengthSpec, Prompts};
use crate::measure::engine::{History, MadeBody, SessionSource};
use crate::measure::protocol::Protocol;

/// What `--turns`, `--turn-input-tokens` and `--think-time` ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSettings {
    /// Turns a session sends at most; `None`: all its conversation has (`--turns all`).
    pub turns: Option<u32>,
    /// The length of a synthetic session's later user turns (`--turn-input-tokens`).
    pub turn_input: Option<LengthSpec>,
    /// The pause before each later turn: from `think.0` to `think.1`, uniform.
    pub think: (Duration, Duration),
    /// Sessions in the run (`-n`); `None`: until the run stops (`-d`).
    pub count: Option<u64>,
}

impl SessionSettings {
    /// The settings as the result file's `config.sessions`.
    pub fn view(&self) -> serde_json::Value {
        serde_json::json!({
            "turns": self.turns.map_or_else(|| "all".into(), serde_json::Value::from),
            "turn_input_tokens": self.turn_input.map(|t| t.to_string()),
            "think_time": [self.think.0.as_secs_f64(), self.think.1.as_secs_f64()],
            "sessions": self.count,
        })
    }
}

/// Where a session's user turns come from.
#[derive(Debug)]
pub enum Turns {
    /// Synthetic prompts: the first of `first` tokens, the later ones of `later` tokens.
    Synthetic {
        /// Prompts of the first turns (with `--shared-prefix-tokens`, if any).
        first_prompts: Prompts,
        /// Prompts of the later turns (never a shared beginning).
        later_prompts: Option<Prompts>,
        /// The first turn's length.
        first: LengthSpec,
        /// The later turns' length.
        later: LengthSpec,
    },
    /// Record `i` of the dataset (cycled) is session `i`'s conversation.
    Dataset(Dataset),
}

/// The engine's [`SessionSource`] for a run of conversations.
#[derive(Debug)]
pub struct Sessions {
    turns: Turns,
    settings: SessionSettings,
    build: BuildSettings,
}

impl Sessions {
    /// Sessions of `turns`, built as `build` says.
    pub fn new(turns: Turns, settings: &SessionSettings, build: &BuildSettings) -> Sessions {
        Sessions { turns, settings: settings.clone(), build: build.clone() }
    }

    /// The system messages and the user turns of session `session`'s conversation (a
    /// synthetic session's are made when asked for).
    fn conversation(&self, session: u64) -> (Vec<Message>, Vec<String>) {
        let Turns::Dataset(dataset) = &self.turns else {
            return (Vec::new(), Vec::new());
        };
        let item = dataset.item(session);
        let Content::Messages(messages) = &item.content else {
            return (Vec::new(), Vec::new());
        };
        let system = messages.iter().filter(|m| m.role == Role::System).cloned().collect();
        let users = messages.iter().filter(|m| m.role == Role::User).map(|m| m.content.clone());
        (system, users.chain(item.later_turns.iter().cloned()).collect())
    }

    /// The user's text of turn `turn` of `session`, whose dataset turns are `users`: the same
    /// every time it is asked for, as each later turn sends the earlier ones again.
    fn user_turn(&self, session: u64, turn: u32, users: &[String]) -> String {
        let Turns::Synthetic { first_prompts, later_prompts, first, later } = &self.turns else {
            return users.get(turn as usize).cloned().unwrap_or_default();
        };
        let rng = &mut draws(session, turn, Draw::Prompt);
        // A number of its own per turn, so no two turns open alike.
        let number = session << 20 | u64::from(turn);
        match turn {
            0 => first_prompts.prompt(number, first.sample(rng)),
            _ => later_prompts.as_ref().unwrap_or(first_prompts).prompt(number, later.sample(rng)),
        }
    }
}

impl SessionSource for Sessions {
    fn turns(&self, session: u64) -> u32 {
        let available = match &self.turns {
            Turns::Synthetic { .. } => self.settings.turns.unwrap_or(1),
            Turns::Dataset(_) => self.conversation(session).1.len().max(1) as u32,
        };
        self.settings.turns.map_or(available, |asked| asked.min(available)).max(1)
    }

    fn turn(&self, session: u64, turn: u32, history: &History) -> MadeBody {
        // The conversation is read once a turn, not once for each earlier turn it repeats.
        let (mut messages, users) = self.conversation(session);
        for (earlier, reply) in history.replies.iter().enumerate() {
            messages.push(Message::user(self.user_turn(session, earlier as u32, &users)));
            messages.push(Message { role: Role::Assistant, content: reply.clone() });
        }
        messages.push(Message::user(self.user_turn(session, turn, &users)));
        let output = self.build.output.map(|o| o.sample(&mut draws(session, turn, Draw::Output)));
        let mut body = self.build.value(&messages, output);
        if self.build.protocol == Protocol::Dify
            && let Some(id) = &history.conversation_id
        {
            body["conversation_id"] = serde_json::Value::from(id.as_str());
        }
        let bytes = bytes::Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
        MadeBody { bytes, output_tokens: output, input_tokens: None, headers: Vec::new() }
    }

    fn think_time(&self, session: u64, turn: u32) -> Duration {
        let (low, high) = self.settings.think;
        if high <= low {
            return low;
        }
        let share = draws(session, turn, Draw::Think).random::<f64>();
        low + (high - low).mul_f64(share)
    }
}

/// What a generator is drawn for.
#[derive(Clone, Copy)]
enum Draw {
    Prompt,
    Output,
    Think,
}

/// The generator of one draw of one turn, seeded by session, turn and what it draws: a
/// conversation asks the same on every run, and each draw is independent of the others.
fn draws(session: u64, turn: u32, what: Draw) -> StdRng {
    let seed = (session << 24) ^ (u64::from(turn) << 2) ^ what as u64;
    StdRng::seed_from_u64(seed)
}
