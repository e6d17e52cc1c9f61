//! Dify's conversations: the chat route's first answer issues a `conversation_id`, a later
//! query sends it back to go on in that conversation, and an id Dify never issued is a 404
//! (`Conversation Not Exists.`). The mock keeps the ids it issued so that a client's
//! multi-turn Dify runs are checked as Dify checks them, for as long as the server runs
//! (`POST /mock/reset` forgets the counts, not the conversations). Unlike Dify it does not
//! check that a query's `user` is the one who started the conversation.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use super::stats::lock;

/// Most conversation ids remembered; past it the oldest is forgotten.
pub(crate) const MAX_CONVERSATIONS: usize = 100_000;

/// What a chat request's `conversation_id` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Turn {
    /// Empty or missing: a new conversation, with this id (now issued).
    First(String),
    /// An id the mock issued: the conversation goes on.
    Next(String),
    /// An id the mock never issued (or forgot): Dify answers 404.
    Unknown,
}

/// The conversation ids issued so far, shared by every request of the server.
#[derive(Debug)]
pub(crate) struct Conversations {
    issued: Mutex<Issued>,
    capacity: usize,
}

/// The ids, and the order they were issued in (to forget the oldest).
#[derive(Debug, Default)]
struct Issued {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

impl Default for Conversations {
    fn default() -> Self {
        Conversations::with_capacity(MAX_CONVERSATIONS)
    }
}

impl Conversations {
    /// A store that remembers at most `capacity` ids.
    fn with_capacity(capacity: usize) -> Conversations {
        Conversations { issued: Mutex::new(Issued::default()), capacity }
    }

    /// The turn a chat request takes: `given` (its `conversation_id`) when non-empty, else a
    /// new conversation, whose id `new_id` makes and which is remembered from now on.
    pub(crate) fn turn(&self, given: Option<&str>, new_id: impl FnOnce() -> String) -> Turn {
        let mut issued = lock(&self.issued);
        match given.filter(|id| !id.is_empty()) {
            Some(id) if issued.ids.contains(id) => Turn::Next(id.to_owned()),
            Some(_) => Turn::Unknown,
            None => {
                let id = new_id();
                if issued.order.len() >= self.capacity {
                    if let Some(oldest) = issued.order.pop_front() {
                        issued.ids.remove(&oldest);
                    }
                }
                issued.ids.insert(id.clone());
                issued.order.push_back(id.clone());
                Turn::First(id)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_id_goes_on_and_others_are_unknown() {
        let c = Conversations::default();
        assert_eq!(c.turn(None, || "a".into()), Turn::First("a".into()));
        assert_eq!(c.turn(Some(""), || "b".into()), Turn::First("b".into()), "empty is none");
        assert_eq!(c.turn(Some("a"), || unreachable!()), Turn::Next("a".into()));
        assert_eq!(c.turn(Some("z"), || unreachable!()), Turn::Unknown);
    }

    #[test]
    fn past_the_bound_the_oldest_is_forgotten() {
        let c = Conversations::with_capacity(2);
        for id in ["a", "b", "c"] {
            c.turn(None, || id.into());
        }
        assert_eq!(c.turn(Some("a"), || unreachable!()), Turn::Unknown);
        assert_eq!(c.turn(Some("b"), || unreachable!()), Turn::Next("b".into()));
        assert_eq!(c.turn(Some("c"), || unreachable!()), Turn::Next("c".into()));
        assert_eq!(lock(&c.issued).ids.len(), 2);
        assert_eq!(MAX_CONVERSATIONS, 100_000);
    }
}
