//! Whole (non-streaming) answers: a JSON body that holds the entire answer at once, such as
//! OpenAI's `chat.completion`, Anthropic's `message` or Gemini's `generateContent` response.
//!
//! The protocol is the forced `--format`, else the one whose whole answer the object looks
//! like, else the one the URL path names, as for streams. A bare `{"error": …}` has no shape
//! of its own, so the URL decides it, else OpenAI's reading (the most general). Anything
//! else, and any generic rules, go to the generic adapter as one event. The answer must be
//! complete in the protocol's terms (its `choices`, a finished status, …): otherwise it is
//! `malformed`, as a stream without its end marker is `incomplete`.

use serde_json::Value;

use super::format::{FormatKind, StreamFormat};
use super::support::{malformed, preview};
use super::{
    Interpretation, Protocol, anthropic, dify, gemini, generic, ollama, openai, responses, tgi,
};
use crate::measure::stream::Event;

/// What a whole answer `body`, to a request for `url_path`, means as configured by `format`,
/// and the protocol that read it. A complete answer comes back `done`.
pub fn interpret(format: &StreamFormat, body: &[u8], url_path: &str) -> (Protocol, Interpretation) {
    let forced = match format.kind {
        FormatKind::Protocol(protocol) => Some(protocol),
        _ if format.has_generic_rules() => Some(Protocol::Generic),
        _ => None,
    };
    let hint = forced.or_else(|| Protocol::from_url_path(url_path));
    let Ok(text) = std::str::from_utf8(body) else {
        return (hint.unwrap_or(Protocol::Generic), malformed("answer is not UTF-8".to_owned()));
    };
    if forced == Some(Protocol::Generic) {
        return (Protocol::Generic, generic_whole(format, text));
    }
    let answer = match serde_json::from_str::<Value>(text) {
        Ok(answer) => answer,
        Err(e) => {
            let why = format!("answer is not valid JSON ({e}): {}", preview(text.trim()));
            return (hint.unwrap_or(Protocol::Generic), malformed(why));
        }
    };
    let protocol = forced.or_else(|| shape_of(&answer)).or(hint).unwrap_or_else(|| {
        match answer.get("error") {
            Some(_) => Protocol::OpenAiChat,
            None => Protocol::Generic,
        }
    });
    let meaning = match protocol {
        Protocol::OpenAiChat | Protocol::OpenAiCompletions => openai::whole(&answer),
        Protocol::OpenAiResponses => responses::whole(&answer),
        Protocol::Anthropic => anthropic::whole(&answer),
        Protocol::Gemini => gemini::whole(&answer),
        Protocol::Dify => dify::whole(&answer),
        Protocol::Ollama => ollama::whole(&answer),
        Protocol::Tgi => tgi::whole(&answer),
        Protocol::Generic => return (protocol, generic_whole(format, text)),
    };
    (protocol, complete(meaning, protocol, text))
}

/// The generic rules on the whole body as one event; the body's end completes it.
fn generic_whole(format: &StreamFormat, text: &str) -> Interpretation {
    let event = Event { name: "message".into(), data: text.to_owned(), id: None };
    let meaning = generic::Generic::new(format).interpret(&event);
    Interpretation { done: true, ..meaning }
}

/// `meaning`, unless it neither completed nor failed: then the object was not a whole
/// answer of `protocol`.
fn complete(meaning: Interpretation, protocol: Protocol, text: &str) -> Interpretation {
    if meaning.done || meaning.error.is_some() || meaning.malformed.is_some() {
        return meaning;
    }
    let name = protocol.name();
    malformed(format!("answer is not a whole {name} answer: {}", preview(text.trim())))
}

/// The protocol whose whole answer looks like `answer`: by its `object` or `type` name,
/// else by the fields only that protocol's answers have.
fn shape_of(answer: &Value) -> Option<Protocol> {
    let field = |key: &str| answer.get(key).and_then(Value::as_str);
    let generated_text = answer.get("generated_text").is_some_and(Value::is_string);
    Some(match (field("object"), field("type")) {
        // vLLM's older error object, in a 200 from a gateway.
        (Some("chat.completion" | "error"), _) => Protocol::OpenAiChat,
        (Some("text_completion"), _) => Protocol::OpenAiCompletions,
        (Some("response"), _) => Protocol::OpenAiResponses,
        (_, Some("message")) => Protocol::Anthropic,
        _ if anthropic::looks_like(answer) => Protocol::Anthropic,
        _ if gemini::looks_like(answer) => Protocol::Gemini,
        _ if ollama::looks_like(answer) => Protocol::Ollama,
        _ if dify::looks_like(answer) || dify::looks_like_run(answer) => Protocol::Dify,
        _ if generated_text || tgi::looks_like(answer) => Protocol::Tgi,
        _ if openai::looks_like_completions(answer) => Protocol::OpenAiCompletions,
        _ if answer.get("choices").is_some_and(Value::is_array) => Protocol::OpenAiChat,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `body` as a whole answer to `path` with `auto`.
    fn read(path: &str, body: &str) -> (Protocol, Interpretation) {
        interpret(&StreamFormat::default(), body.as_bytes(), path)
    }

    fn forced(protocol: Protocol, body: &str) -> Interpretation {
        let format =
            StreamFormat { kind: FormatKind::Protocol(protocol), ..StreamFormat::default() };
        interpret(&format, body.as_bytes(), "/custom").1
    }

    /// The fields every whole answer is checked on.
    fn summary(i: &Interpretation) -> (Option<&str>, Option<&str>, Option<u64>, Option<&str>) {
        (i.answer.as_deref(), i.reasoning.as_deref(), i.output_tokens, i.finish_reason.as_deref())
    }

    #[test]
    fn openai_chat_completion() {
        let body = r#"{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion","created":1741570283,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"The image shows a wooden boardwalk.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1117,"completion_tokens":46,"total_tokens":1163,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_fc9f1d7035"}"#;
        let (protocol, i) = read("/v1/chat/completions", body);
        assert_eq!(protocol, Protocol::OpenAiChat);
        assert_eq!(
            summary(&i),
            (Some("The image shows a wooden boardwalk."), None, Some(46), Some("stop"))
        );
        assert_eq!((i.input_tokens, i.reasoning_tokens, i.done), (Some(1117), Some(0), true));
    }

    #[test]
    fn openai_compatible_reasoning_and_tool_calls() {
        // DeepSeek's reasoner: `reasoning_content` beside the answer.
        let deepseek = r#"{"id":"x","object":"chat.completion","model":"deepseek-reasoner","choices":[{"index":0,"message":{"role":"assistant","content":"9.11 < 9.8","reasoning_content":"Compare the tenths."},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":20,"completion_tokens_details":{"reasoning_tokens":12}}}"#;
        let i = read("/chat/completions", deepseek).1;
        assert_eq!(
            summary(&i),
            (Some("9.11 < 9.8"), Some("Compare the tenths."), Some(20), Some("stop"))
        );
        let tools = r#"{"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}]}"#;
        let i = read("/v1/chat/completions", tools).1;
        assert_eq!(i.tool_call.as_deref(), Some(r#"get_weather{"location":"Paris"}"#));
        assert_eq!((i.answer.as_deref(), i.finish_reason.as_deref()), (None, Some("tool_calls")));
    }

    #[test]
    fn openai_legacy_text_completion() {
        let body = r#"{"id":"cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7","object":"text_completion","created":1589478378,"model":"gpt-3.5-turbo-instruct","system_fingerprint":"fp_44709d6fcb","choices":[{"text":"\n\nThis is indeed a test","index":0,"logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}"#;
        let (protocol, i) = read("/proxy", body);
        assert_eq!(protocol, Protocol::OpenAiCompletions);
        assert_eq!(summary(&i), (Some("\n\nThis is indeed a test"), None, Some(7), Some("length")));
    }

    #[test]
    fn responses_object() {
        let body = r#"{"id":"resp_67ccd3a9da748190baa7f1570fe91ac604becb25c45c1d41","object":"response","created_at":1741476777,"status":"completed","error":null,"incomplete_details":null,"model":"o4-mini","output":[{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Looked at the image."}]},{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"A wooden boardwalk.","annotations":[]}]},{"type":"function_call","id":"fc_1","call_id":"call_1","name":"save","arguments":"{}","status":"completed"}],"usage":{"input_tokens":328,"input_tokens_details":{"cached_tokens":0},"output_tokens":52,"output_tokens_details":{"reasoning_tokens":40},"total_tokens":380}}"#;
        let (protocol, i) = read("/v1/responses", body);
        assert_eq!(protocol, Protocol::OpenAiResponses);
        assert_eq!(
            summary(&i),
            (
                Some("A wooden boardwalk."),
                Some("Looked at the image."),
                Some(52),
                Some("completed")
            )
        );
        assert_eq!((i.tool_call.as_deref(), i.reasoning_tokens), (Some("save{}"), Some(40)));
        let incomplete = r#"{"object":"response","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[],"usage":{"output_tokens":16}}"#;
        let i = read("/v1/responses", incomplete).1;
        assert_eq!((i.done, i.finish_reason.as_deref()), (true, Some("max_output_tokens")));
        let failed = r#"{"object":"response","status":"failed","error":{"code":"server_error","message":"The model failed"},"output":[]}"#;
        assert_eq!(
            read("/v1/responses", failed).1.error.as_deref(),
            Some("server_error: The model failed")
        );
        let queued = r#"{"object":"response","status":"queued","output":[]}"#;
        assert!(read("/v1/responses", queued).1.error.unwrap().contains("queued"));
    }

    #[test]
    fn anthropic_message() {
        let body = r#"{"id":"msg_013Zva2CMHLNnXjNJJKqJ2EF","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"thinking","thinking":"The user greets me.","signature":"EqQB"},{"type":"redacted_thinking","data":"EmwKAhgB"},{"type":"text","text":"Hi! My name is Claude."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"location":"Paris"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":2095,"output_tokens":503}}"#;
        let (protocol, i) = read("/gateway", body);
        assert_eq!(protocol, Protocol::Anthropic);
        assert_eq!(
            summary(&i),
            (
                Some("Hi! My name is Claude."),
                Some("The user greets me."),
                Some(503),
                Some("tool_use")
            )
        );
        assert_eq!(i.tool_call.as_deref(), Some(r#"get_weather{"location":"Paris"}"#));
        assert_eq!(i.input_tokens, Some(2095));
        let error = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}"#;
        assert_eq!(
            read("/v1/messages", error).1.error.as_deref(),
            Some("overloaded_error: Overloaded")
        );
    }

    #[test]
    fn gemini_generate_content() {
        let body = r#"{"candidates":[{"content":{"parts":[{"text":"**Thinking about it**","thought":true},{"text":"AI learns patterns from data."}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":7,"totalTokenCount":1015,"promptTokensDetails":[{"modality":"TEXT","tokenCount":8}],"thoughtsTokenCount":1000},"modelVersion":"gemini-2.5-flash","responseId":"7kGyaL6bMtqNz7IP"}"#;
        let (protocol, i) = read("/v1beta/models/gemini-2.5-flash:generateContent", body);
        assert_eq!(protocol, Protocol::Gemini);
        assert_eq!(
            summary(&i),
            (
                Some("AI learns patterns from data."),
                Some("**Thinking about it**"),
                Some(1007),
                Some("STOP")
            )
        );
        assert_eq!(i.reasoning_tokens, Some(1000));
        let error =
            r#"{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT"}}"#;
        let i = read("/v1beta/models/gemini-2.5-flash:generateContent", error).1;
        assert_eq!(
            i.error.as_deref(),
            Some("INVALID_ARGUMENT: API key not valid."),
            "the URL reads it"
        );
    }

    #[test]
    fn ollama_chat_and_generate() {
        let chat = r#"{"model":"qwen3","created_at":"2023-12-12T14:13:43.416799Z","message":{"role":"assistant","content":"Hello! How are you today?","thinking":"A greeting."},"done":true,"done_reason":"stop","total_duration":5191566416,"load_duration":2154458,"prompt_eval_count":26,"prompt_eval_duration":383809000,"eval_count":298,"eval_duration":4799921000}"#;
        let (protocol, i) = read("/api/chat", chat);
        assert_eq!(protocol, Protocol::Ollama);
        assert_eq!(
            summary(&i),
            (Some("Hello! How are you today?"), Some("A greeting."), Some(298), Some("stop"))
        );
        let generate = r#"{"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","response":"The sky is blue because of Rayleigh scattering.","done":true,"done_reason":"length","context":[1,2,3],"total_duration":10706818083,"prompt_eval_count":26,"eval_count":290}"#;
        let i = forced(Protocol::Ollama, generate);
        assert_eq!(i.answer.as_deref(), Some("The sky is blue because of Rayleigh scattering."));
        assert_eq!((i.output_tokens, i.finish_reason.as_deref()), (Some(290), Some("length")));
        let error = r#"{"error":"model 'llama9' not found"}"#;
        assert_eq!(read("/api/chat", error).1.error.as_deref(), Some("model 'llama9' not found"));
    }

    #[test]
    fn dify_blocking_chat_and_workflow() {
        let chat = r#"{"event":"message","task_id":"c3800678-a077-43df-a102-53f23ed20b88","id":"9da23599-e713-473b-982c-4328d4f5c78a","message_id":"9da23599-e713-473b-982c-4328d4f5c78a","conversation_id":"45701982-8118-4bc5-8e9b-64562b4555f2","mode":"chat","answer":"iPhone 13 Pro Max specs are listed below.","metadata":{"usage":{"prompt_tokens":1033,"prompt_unit_price":"0.001","completion_tokens":128,"total_tokens":1161,"currency":"USD","latency":0.768},"retriever_resources":[]},"created_at":1705407629}"#;
        let (protocol, i) = read("/v1/chat-messages", chat);
        assert_eq!(protocol, Protocol::Dify);
        assert_eq!(
            summary(&i),
            (Some("iPhone 13 Pro Max specs are listed below."), None, Some(128), None)
        );
        assert_eq!(i.input_tokens, Some(1033));
        let run = r#"{"workflow_run_id":"djflajgkldjgd","task_id":"9da23599-e713-473b-982c-4328d4f5c78a","data":{"id":"fdlsjfjejkghjda","workflow_id":"fldjaslkfjlsda","status":"succeeded","outputs":{"text":"Nice to meet you."},"error":null,"elapsed_time":0.875,"total_tokens":3562,"total_steps":8,"created_at":1705407629,"finished_at":1727807631}}"#;
        let (protocol, i) = read("/custom", run);
        assert_eq!(protocol, Protocol::Dify);
        assert_eq!(summary(&i), (Some("Nice to meet you."), None, None, None));
        assert!(i.done);
        let failed = r#"{"workflow_run_id":"r","task_id":"t","data":{"id":"r","status":"failed","outputs":null,"error":"Node LLM run failed"}}"#;
        assert_eq!(
            read("/v1/workflows/run", failed).1.error.as_deref(),
            Some("Node LLM run failed")
        );
    }

    #[test]
    fn tgi_generate() {
        let body = r#"{"generated_text":"Deep learning is a subset of machine learning.","details":{"finish_reason":"eos_token","generated_tokens":11,"seed":null,"prefill":[],"tokens":[{"id":2,"text":"</s>","logprob":-0.01,"special":true}]}}"#;
        let (protocol, i) = read("/generate", body);
        assert_eq!(protocol, Protocol::Tgi);
        assert_eq!(
            summary(&i),
            (
                Some("Deep learning is a subset of machine learning."),
                None,
                Some(11),
                Some("eos_token")
            )
        );
        // Without `details: true` only the text comes back.
        let bare = read("/other", r#"{"generated_text":"Hi"}"#).1;
        assert_eq!(
            (bare.answer.as_deref(), bare.output_tokens, bare.done),
            (Some("Hi"), None, true)
        );
        let error = r#"{"error":"Input validation error","error_type":"validation"}"#;
        assert_eq!(
            read("/generate", error).1.error.as_deref(),
            Some("validation: Input validation error")
        );
    }

    #[test]
    fn a_bare_error_goes_by_the_url_else_openai() {
        let error = r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#;
        let (protocol, i) = read("/custom", error);
        assert_eq!(protocol, Protocol::OpenAiChat);
        assert_eq!(i.error.as_deref(), Some("requests: Rate limit reached"));
        let (protocol, i) = read("/api/generate", r#"{"error":"out of memory"}"#);
        assert_eq!((protocol, i.error.as_deref()), (Protocol::Ollama, Some("out of memory")));
    }

    #[test]
    fn not_json_or_not_an_answer_is_malformed() {
        let (_, i) = read("/v1/chat/completions", "data: {\"choices\":[]}\n\n");
        assert!(i.malformed.unwrap().starts_with("answer is not valid JSON"));
        let (_, i) = read("/v1/chat/completions", r#"{"id":"x"}"#);
        assert_eq!(
            i.malformed.as_deref(),
            Some(r#"answer is not a whole openai-chat answer: {"id":"x"}"#)
        );
        let i = forced(Protocol::Anthropic, r#"[{"type":"message"}]"#);
        assert!(i.malformed.unwrap().contains("not a JSON object"));
        let i = forced(Protocol::Gemini, r#"{"candidates":"none"}"#);
        assert!(i.malformed.unwrap().starts_with("answer is not valid (invalid type"));
        let (_, i) = interpret(&StreamFormat::default(), &[b'{', 0xff, b'}'], "/x");
        assert_eq!(i.malformed.as_deref(), Some("answer is not UTF-8"));
    }

    #[test]
    fn unknown_shapes_and_generic_rules_read_the_body_as_one_event() {
        let body = r#"{"result":{"text":"hello"}}"#;
        let (protocol, i) = read("/custom", body);
        assert_eq!((protocol, i.answer.as_deref(), i.done), (Protocol::Generic, Some(body), true));
        let rules = StreamFormat {
            content_path: Some("result.text".into()),
            usage_path: Some("result.tokens".into()),
            ..StreamFormat::default()
        };
        let (protocol, i) =
            interpret(&rules, br#"{"result":{"text":"hello","tokens":1}}"#, "/v1/chat/completions");
        assert_eq!(protocol, Protocol::Generic);
        assert_eq!((i.answer.as_deref(), i.output_tokens, i.done), (Some("hello"), Some(1), true));
    }
}
