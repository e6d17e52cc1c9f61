//! Config resolution (file + flags + environment) and workload rendering, against the shipped
//! examples in `configs/` and the CSV files in `tests/data/`. No network.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use streamperf::cli::{Lang, RunArgs};
use streamperf::config::{Config, DataSource, FormatKind};
use streamperf::workload::Workload;

/// An environment with only these variables (the process environment is never touched).
fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> =
        vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| map.get(name).cloned()
}

fn resolve(args: &RunArgs) -> anyhow::Result<Config> {
    Config::resolve_with(args, &env_of(&[]))
}

fn with_config(path: impl Into<PathBuf>) -> RunArgs {
    RunArgs { config: Some(path.into()), ..RunArgs::default() }
}

/// Writes `text` to `name` in a fresh temp dir; returns the dir (kept alive) and the path.
fn temp_file(name: &str, text: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::File::create(&path).and_then(|mut f| f.write_all(text)).expect("write");
    (dir, path)
}

fn err_of(args: &RunArgs) -> String {
    format!("{:#}", resolve(args).expect_err("should fail"))
}

fn body_json(workload: &Workload, i: u64) -> Value {
    serde_json::from_slice(&workload.request(i).body).expect("body is valid JSON")
}

#[test]
fn every_shipped_example_resolves_and_loads() {
    for entry in std::fs::read_dir("configs").expect("configs/") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            continue;
        }
        let config =
            resolve(&with_config(&path)).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
        assert!(config.url.starts_with("http://127.0.0.1:8000/"), "{}", path.display());
        let workload =
            Workload::load(&config).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
        assert!(!workload.is_empty());
        for i in 0..workload.len() as u64 {
            body_json(&workload, i);
        }
    }
}

#[test]
fn seed_example_has_the_seed_values() {
    let c = resolve(&with_config("configs/config.json")).unwrap();
    assert_eq!(c.method, "POST");
    assert_eq!(c.timeout, Duration::from_secs(300));
    assert_eq!((c.concurrency, c.total_requests), (10, Some(100)));
    assert_eq!(c.body.as_ref().unwrap()["messages"][0]["content"], "写一个关于AI的短文");
    assert_eq!(c.stream_format.kind, FormatKind::Auto);
    assert!(c.write_result && c.output.is_none());
    assert_eq!(c.config_path.as_deref(), Some(Path::new("configs/config.json")));
}

#[test]
fn yaml_and_toml_equal_json() {
    let view = |p: &str| resolve(&with_config(p)).unwrap().result_view("t");
    let mut json = view("configs/config.json");
    for other in ["configs/config.yaml", "configs/config.toml"] {
        let mut v = view(other);
        v["config_file"] = Value::Null;
        json["config_file"] = Value::Null;
        assert_eq!(v, json, "{other}");
        // Same headers in the same order too (the view hides secret values).
        let a = resolve(&with_config(other)).unwrap();
        let b = resolve(&with_config("configs/config.json")).unwrap();
        assert_eq!(a.headers, b.headers);
        assert_eq!(a.body, b.body);
        // Same bytes on the wire: the file's key order is kept in every format.
        let (wa, wb) = (Workload::load(&a).unwrap(), Workload::load(&b).unwrap());
        assert_eq!(wa.request(0).body, wb.request(0).body);
    }
}

#[test]
fn dify_example_reads_stream_format() {
    let c = resolve(&with_config("configs/config_dify_sse.json")).unwrap();
    assert_eq!(c.stream_format.kind, FormatKind::Sse);
    assert_eq!(c.stream_format.first_token_event.as_deref(), Some("workflow_started"));
    assert_eq!(c.stream_format.completion_event.as_deref(), Some("workflow_finished"));
    assert_eq!(c.stream_format.output_path.as_deref(), Some("data.outputs.result"));
}

#[test]
fn unknown_key_suggests_the_closest() {
    let (_d, path) = temp_file("x.json", br#"{"url": "http://h/", "concurency": 5}"#);
    let err = err_of(&with_config(&path));
    assert_eq!(
        err,
        format!("{}: unknown key `concurency` — did you mean `concurrency`?", path.display())
    );
    let (_d, path) =
        temp_file("x.yaml", b"url: http://h/\nstream_format:\n  type: sse\n  first_token: x\n");
    let err = err_of(&with_config(&path));
    assert!(err.ends_with("unknown key `stream_format.first_token` — did you mean `stream_format.first_token_event`?"), "{err}");
}

#[test]
fn type_errors_name_the_key_and_file() {
    let (_d, path) = temp_file("x.json", br#"{"url": "http://h/", "concurrency": "ten"}"#);
    let err = err_of(&with_config(&path));
    assert_eq!(
        err,
        format!("{}: `concurrency` must be a positive integer, got \"ten\"", path.display())
    );
    let (_d, path) = temp_file("x.toml", b"url = \"http://h/\"\ntimeout = \"soon\"\n");
    assert!(
        err_of(&with_config(&path))
            .contains("`timeout` must be a positive number of seconds, got \"soon\"")
    );
    let (_d, path) = temp_file(
        "x.json",
        br#"{"url": "http://h/", "data_source": {"type": "xlsx", "file": "a"}}"#,
    );
    let err = err_of(&with_config(&path));
    assert!(err.contains("`data_source.type`: unknown dataset format \"xlsx\"; expected one of jsonl, json, sharegpt, text, csv"), "{err}");
    let (_d, path) = temp_file(
        "x.json",
        br#"{"url": "http://h/", "data_source": {"file": "a", "encoding": "utf8mb4"}}"#,
    );
    let err = err_of(&with_config(&path));
    assert!(err.contains("`data_source.encoding` in") && err.contains("supported: utf-8"), "{err}");
}

#[test]
fn parse_errors_name_file_line_and_column() {
    let (_d, path) = temp_file("x.json", b"{\n  \"url\": \"http://h/\",\n}\n");
    let err = err_of(&with_config(&path));
    assert!(err.starts_with(&format!("{}:3:1: invalid JSON", path.display())), "{err}");
    let (_d, path) = temp_file("x.toml", b"url = \"http://h/\"\nconcurrency = = 3\n");
    let err = err_of(&with_config(&path));
    assert!(
        err.starts_with(&format!("{}:2:", path.display())) && err.contains("invalid TOML"),
        "{err}"
    );
    let (_d, path) = temp_file("x.yaml", b"url: http://h/\nheaders: [a\n");
    let err = err_of(&with_config(&path));
    assert!(
        err.starts_with(&format!("{}:", path.display())) && err.contains("invalid YAML"),
        "{err}"
    );
    let (_d, path) = temp_file("x.conf", b"url = 1");
    assert!(err_of(&with_config(&path)).contains("unknown config extension `.conf`"));
    let (_d, path) = temp_file("x.conf", br#"{"url": "http://h/"}"#);
    assert!(resolve(&with_config(&path)).is_ok());
}

#[test]
fn flags_override_the_file() {
    let args = RunArgs {
        config: Some("configs/config.json".into()),
        url: Some("http://127.0.0.1:9/other".into()),
        requests: Some(7),
        concurrency: vec![3],
        timeout: Some(1.5),
        method: Some("put".into()),
        output: Some("out.json".into()),
        lang: Some(Lang::Zh),
        quiet: true,
        save_output: true,
        ..RunArgs::default()
    };
    let c = resolve(&args).unwrap();
    assert_eq!(c.url, "http://127.0.0.1:9/other");
    assert_eq!((c.total_requests, c.concurrency), (Some(7), 3));
    assert_eq!(c.timeout, Duration::from_millis(1500));
    assert_eq!(c.method, "PUT");
    assert_eq!(c.output.as_deref(), Some(Path::new("out.json")));
    assert_eq!(c.lang, Lang::Zh);
    assert!(c.quiet && c.save_output);
    // The file's body is kept when --body is absent.
    assert_eq!(c.body.as_ref().unwrap()["max_tokens"], 500);
}

#[test]
fn header_flags_replace_case_insensitively() {
    let args = RunArgs {
        config: Some("configs/config.json".into()),
        headers: vec!["authorization: Bearer other".into(), "X-Extra: 1".into()],
        ..RunArgs::default()
    };
    let c = resolve(&args).unwrap();
    assert_eq!(
        c.headers,
        vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("authorization".to_string(), "Bearer other".to_string()),
            ("X-Extra".to_string(), "1".to_string()),
        ]
    );
    // `-H 'Name:'` removes a header, as in curl.
    let removed =
        RunArgs { headers: vec!["AUTHORIZATION:".into()], ..with_config("configs/config.json") };
    let c = resolve(&removed).unwrap();
    assert!(!c.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("authorization")));
    let bad = RunArgs { headers: vec!["no colon".into()], ..with_config("configs/config.json") };
    assert!(err_of(&bad).starts_with("`-H/--header` must look like 'Name: value'"));
}

#[test]
fn body_from_flag_and_file() {
    let (_d, path) = temp_file("b.json", "{\"prompt\": \"你好\", \"stream\": true}".as_bytes());
    let args = RunArgs {
        url: Some("http://h/".into()),
        body: Some(format!("@{}", path.display())),
        ..RunArgs::default()
    };
    let c = resolve(&args).unwrap();
    assert_eq!(c.body, Some(json!({"prompt": "你好", "stream": true})));
    let inline = RunArgs { body: Some(r#"{"a": 1}"#.into()), ..args.clone() };
    assert_eq!(resolve(&inline).unwrap().body, Some(json!({"a": 1})));

    let bad = RunArgs { body: Some("{\"a\": }".into()), ..args.clone() };
    let err = err_of(&bad);
    assert!(
        err.starts_with("`--body` is not valid JSON") && err.contains("line 1 column 7"),
        "{err}"
    );
    let (_d, bad_file) = temp_file("bad.json", b"{\n  \"a\": 1,,\n}");
    let bad = RunArgs { body: Some(format!("@{}", bad_file.display())), ..args };
    let err = err_of(&bad);
    assert!(
        err.contains(&format!("{}:2:", bad_file.display())) && err.contains("`--body @"),
        "{err}"
    );
}

#[test]
fn defaults_without_a_file() {
    let c = resolve(&RunArgs {
        url: Some("http://127.0.0.1:8000/v1/chat/completions".into()),
        ..RunArgs::default()
    })
    .unwrap();
    assert_eq!(c.method, "POST");
    assert_eq!(c.timeout, Duration::from_secs(300));
    assert_eq!((c.concurrency, c.total_requests), (10, Some(100)));
    assert_eq!(c.body, Some(streamperf::config::default_body()));
    assert_eq!(c.headers, vec![("Content-Type".to_string(), "application/json".to_string())]);
    assert!(c.write_result && c.output.is_none() && c.data_source.is_none());

    let get = resolve(&RunArgs {
        url: Some("http://h/".into()),
        method: Some("get".into()),
        ..RunArgs::default()
    })
    .unwrap();
    assert_eq!(
        (get.method.as_str(), get.body.is_none(), get.headers.is_empty()),
        ("GET", true, true)
    );
    assert!(Workload::load(&get).unwrap().request(0).body.is_empty());

    assert_eq!(err_of(&RunArgs::default()), "no URL: pass -u URL or a config file with `url`");
}

#[test]
fn validation_names_the_key() {
    let url = |u: &str| RunArgs { url: Some(u.into()), ..RunArgs::default() };
    assert!(
        err_of(&url("localhost:8000/v1"))
            .starts_with("`-u/--url` must be an http:// or https:// URL")
    );
    assert!(err_of(&url("/v1/chat")).starts_with("`-u/--url` is not a valid URL"));
    assert!(resolve(&url("http://127.0.0.1:8000/{{path}}")).is_ok());
    let base = url("http://h/");
    assert_eq!(
        err_of(&RunArgs { concurrency: vec![0], ..base.clone() }),
        "`-p/--concurrency` must be at least 1, got 0"
    );
    assert_eq!(
        err_of(&RunArgs { requests: Some(0), ..base.clone() }),
        "`-n/--requests` must be at least 1, got 0"
    );
    assert!(
        err_of(&RunArgs { timeout: Some(0.0), ..base.clone() })
            .starts_with("`--timeout` must be a positive")
    );
    let (_d, path) = temp_file("x.json", br#"{"url": "ftp://h/"}"#);
    assert!(
        err_of(&with_config(&path))
            .starts_with(&format!("`url` in {} must be an http://", path.display()))
    );
}

#[test]
fn env_substitution_and_redaction() {
    let (_d, path) = temp_file(
        "x.json",
        br#"{
            "url": "http://127.0.0.1:8000/v1/chat/completions?key=${GEMINI_KEY}",
            "headers": {"Authorization": "Bearer ${API_KEY}", "X-Team": "${TEAM}", "X-Plain": "literal-credential-ish"},
            "body": {"model": "${MODEL}", "user": "${API_KEY}", "${KEYS_ARE_LEFT}": 1},
            "proxy": "http://user:${PROXY_PASS}@127.0.0.1:3128"
        }"#,
    );
    let env = env_of(&[
        ("API_KEY", "sk-live-abcdef"),
        ("GEMINI_KEY", "AIza-gemini"),
        ("TEAM", "team-secret"),
        ("MODEL", "gpt-x"),
        ("PROXY_PASS", "pr0xy-pass"),
    ]);
    let c = Config::resolve_with(&with_config(&path), &env).unwrap();
    assert_eq!(c.url, "http://127.0.0.1:8000/v1/chat/completions?key=AIza-gemini");
    assert!(
        c.headers.contains(&("Authorization".to_string(), "Bearer sk-live-abcdef".to_string()))
    );
    assert_eq!(
        c.body,
        Some(json!({"model": "gpt-x", "user": "sk-live-abcdef", "${KEYS_ARE_LEFT}": 1}))
    );

    let view = c.result_view("2024-01-15T10:30:00");
    let keys: Vec<&str> = view.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(&keys[..5], ["url", "method", "concurrency", "total_requests", "timestamp"]);
    assert_eq!(
        &keys[5..],
        [
            "timeout",
            "headers",
            "body",
            "data_source",
            "stream_format",
            "tokenizer",
            "proxy",
            "max_redirects",
            "load",
            "sweep",
            "config_file",
            "lang",
            "label",
            "tags"
        ]
    );
    let text = view.to_string();
    for secret in ["sk-live-abcdef", "AIza-gemini", "team-secret", "gpt-x", "pr0xy-pass"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert_eq!(view["headers"]["Authorization"], "***");
    assert_eq!(view["headers"]["X-Team"], "***");
    assert_eq!(view["headers"]["X-Plain"], "literal-credential-ish");
    assert_eq!(view["body"]["user"], "***");
    assert_eq!(view["url"], "http://127.0.0.1:8000/v1/chat/completions?key=***");
    assert_eq!(view["proxy"], "http://user:***@127.0.0.1:3128");
    assert_eq!(c.redactor.redact("error: bad key sk-live-abcdef"), "error: bad key ***");

    // A secret header written in clear in the file is hidden too.
    let c = resolve(&with_config("configs/config.json")).unwrap();
    assert!(!c.result_view("t").to_string().contains("sk-your-api-key"));
}

#[test]
fn missing_env_var_names_it_and_the_place() {
    let (_d, path) = temp_file(
        "x.json",
        br#"{"url": "http://h/", "headers": {"Authorization": "Bearer ${NOPE_KEY}"}}"#,
    );
    let err = err_of(&with_config(&path));
    assert!(
        err.starts_with(&format!(
            "environment variable `NOPE_KEY` is not set (used in `headers.Authorization` in {})",
            path.display()
        )),
        "{err}"
    );
    let args = RunArgs {
        url: Some("http://h/".into()),
        body: Some(r#"{"m": [{"c": "${NOPE2}"}]}"#.into()),
        ..RunArgs::default()
    };
    assert!(err_of(&args).contains("`NOPE2` is not set (used in `--body` at `body.m[0].c`)"));
}

#[test]
fn relative_data_path_resolves_against_the_config_folder() {
    let c = resolve(&with_config("configs/config_csv_example.json")).unwrap();
    let ds = c.data_source.as_ref().unwrap();
    assert_eq!(ds.file, Path::new("configs/data/test_data.csv"));
    assert_eq!((ds.column.as_deref(), ds.encoding.as_str()), (Some("content"), "utf-8"));
    let w = Workload::load(&c).unwrap();
    assert_eq!(w.len(), 5);
    assert_eq!(body_json(&w, 0)["messages"][0]["content"], "写一个关于人工智能的短文");
    assert_eq!(body_json(&w, 4)["messages"][0]["content"], "讨论自然语言处理的发展趋势");
    // Cycling: request 5 is row 0 again, request 102 is row 2.
    assert_eq!(w.request(5).body, w.request(0).body);
    assert_eq!(w.request(102).body, w.request(2).body);
}

/// A config over `tests/data/<file>` with `body` as the template.
fn csv_config(file: &str, encoding: &str, column: Option<&str>, body: Value) -> Config {
    let mut c = resolve(&RunArgs {
        url: Some("http://127.0.0.1:8000/v1/chat/completions".into()),
        ..RunArgs::default()
    })
    .unwrap();
    c.body = Some(body);
    c.data_source = Some(DataSource {
        file: Path::new("tests/data").join(file),
        format: None,
        shuffle: None,
        column: column.map(str::to_string),
        encoding: encoding.into(),
    });
    c
}

#[test]
fn csv_values_stay_valid_json() {
    let c = csv_config(
        "tricky.csv",
        "utf-8",
        None,
        json!({"messages": [{"role": "user", "content": "{{ text }}"}], "tag": "{{topic}}/{{id}}"}),
    );
    let w = Workload::load(&c).unwrap();
    let expected = [
        ("He said \"hi\" to me", "quotes/1"),
        ("line one\nline two", "newline/2"),
        ("写一篇关于人工智能的短文", "中文/3"),
        ("C:\\path\\to\\file \\n not a newline", "backslash/4"),
    ];
    assert_eq!(w.len(), expected.len());
    for (i, (text, tag)) in expected.iter().enumerate() {
        let body = body_json(&w, i as u64);
        assert_eq!(body["messages"][0]["content"], *text);
        assert_eq!(body["tag"], *tag);
    }
}

#[test]
fn encodings_decode() {
    let body = json!({"q": "{{content}}|{{topic}}"});
    for (file, encoding) in [
        ("gbk.csv", "gbk"),
        ("gbk.csv", "gb18030"),
        ("bom_utf8.csv", "utf-8"),
        ("utf16le_bom.csv", "utf-16"),
        ("utf16le_bom.csv", "utf-16le"),
        ("utf16le_bom.csv", "utf-8"),
    ] {
        let w = Workload::load(&csv_config(file, encoding, None, body.clone()))
            .unwrap_or_else(|e| panic!("{file} {encoding}: {e:#}"));
        assert_eq!(body_json(&w, 0)["q"], "你好|问候", "{file} {encoding}");
        assert_eq!(body_json(&w, 1)["q"], "介绍Python|编程", "{file} {encoding}");
    }
    let err =
        format!("{:#}", Workload::load(&csv_config("gbk.csv", "utf-8", None, body)).unwrap_err());
    assert!(
        err.starts_with("tests/data/gbk.csv:2: not valid utf-8 text; set `data_source.encoding`"),
        "{err}"
    );
}

#[test]
fn column_limits_placeholders() {
    let body = json!({"q": "{{content}}"});
    let w = Workload::load(&csv_config("gbk.csv", "gbk", Some("content"), body)).unwrap();
    assert_eq!(body_json(&w, 0)["q"], "你好");
    let err = format!(
        "{:#}",
        Workload::load(&csv_config("gbk.csv", "gbk", Some("content"), json!({"q": "{{topic}}"})))
            .unwrap_err()
    );
    assert!(
        err.contains("placeholder `{{topic}}` in `body.q` names no column")
            && err.contains("available: content (`data_source.column`"),
        "{err}"
    );
    let err = format!(
        "{:#}",
        Workload::load(&csv_config("gbk.csv", "gbk", Some("contnt"), json!({}))).unwrap_err()
    );
    assert!(
        err.contains("`data_source.column` \"contnt\" is not a column")
            && err.contains("did you mean `content`?")
            && err.contains("the header has: content, topic"),
        "{err}"
    );
}

#[test]
fn missing_placeholder_column_fails_before_sending() {
    let mut c = csv_config("tricky.csv", "utf-8", None, json!({"q": "{{text}}"}));
    c.headers.push(("X-Topic".into(), "{{topics}}".into()));
    let err = format!("{:#}", Workload::load(&c).unwrap_err());
    assert!(err.starts_with("placeholder `{{topics}}` in header `X-Topic` names no column of tests/data/tricky.csv (available: id, text, topic) — did you mean `{{topic}}`?"), "{err}");
}

#[test]
fn bad_csv_files() {
    let load = |f: &str| {
        format!("{:#}", Workload::load(&csv_config(f, "utf-8", None, json!({}))).unwrap_err())
    };
    assert!(
        load("ragged.csv")
            .starts_with("tests/data/ragged.csv:4: this row has 1 fields but the header has 2"),
        "{}",
        load("ragged.csv")
    );
    assert!(load("empty.csv").starts_with("tests/data/empty.csv: the CSV file is empty"));
    assert!(load("header_only.csv").starts_with("tests/data/header_only.csv: no data rows"));
    assert!(load("missing.csv").starts_with("cannot read data file tests/data/missing.csv"));
}

#[test]
fn header_value_broken_by_a_row_is_caught() {
    let mut c = csv_config("tricky.csv", "utf-8", None, json!({}));
    c.headers.push(("X-Text".into(), "{{text}}".into()));
    let err = format!("{:#}", Workload::load(&c).unwrap_err());
    assert!(err.starts_with("tests/data/tricky.csv:3: header `X-Text`"), "{err}");
}

#[test]
fn without_data_source_placeholders_are_sent_as_written() {
    let args = RunArgs {
        url: Some("http://h/{{x}}".into()),
        body: Some(r#"{"q": "{{x}}"}"#.into()),
        ..RunArgs::default()
    };
    let w = Workload::load(&resolve(&args).unwrap()).unwrap();
    assert_eq!(w.len(), 1);
    assert_eq!(w.request(3).url, "http://h/{{x}}");
    assert_eq!(&w.request(0).body[..], br#"{"q":"{{x}}"}"#);
}

#[test]
fn format_flag_and_stream_format_keys() {
    use streamperf::protocol::Protocol;
    let (_d, path) = temp_file(
        "f.json",
        br#"{"url": "http://h/", "tokenizer": "vocab/tokenizer.json",
             "stream_format": {"type": "ndjson", "content_path": "msg.text", "reasoning_path": "msg.think",
             "usage_path": "n", "error_path": "err", "done_marker": "END"}}"#,
    );
    let c = resolve(&with_config(&path)).unwrap();
    let sf = &c.stream_format;
    assert_eq!(sf.kind, FormatKind::Ndjson);
    assert_eq!(sf.content_path.as_deref(), Some("msg.text"));
    assert_eq!(sf.reasoning_path.as_deref(), Some("msg.think"));
    assert_eq!((sf.usage_path.as_deref(), sf.error_path.as_deref()), (Some("n"), Some("err")));
    assert_eq!(sf.done_marker.as_deref(), Some("END"));
    // A tokenizer file in the config is relative to the config's folder, as data files are.
    let expected = path.parent().unwrap().join("vocab/tokenizer.json");
    assert_eq!(c.tokenizer, expected.display().to_string());

    let flags = RunArgs {
        format: Some("Anthropic".into()),
        tokenizer: Some("cl100k_base".into()),
        ..with_config(&path)
    };
    let c = resolve(&flags).unwrap();
    assert_eq!(c.stream_format.kind, FormatKind::Protocol(Protocol::Anthropic));
    assert_eq!(c.stream_format.content_path.as_deref(), Some("msg.text"), "paths are kept");
    assert_eq!(c.tokenizer, "cl100k_base");
    let view = c.result_view("t");
    assert_eq!(view["stream_format"]["type"], "anthropic");
    assert_eq!(view["tokenizer"], "cl100k_base");

    let openai = RunArgs { format: Some("openai".into()), ..with_config(&path) };
    assert_eq!(
        resolve(&openai).unwrap().stream_format.kind,
        FormatKind::Protocol(Protocol::OpenAiChat),
        "the old name still works"
    );
    let bad = RunArgs { format: Some("websocket".into()), ..with_config(&path) };
    assert!(err_of(&bad).starts_with("`--format websocket`: unknown stream format; use one of auto, sse, ndjson, raw, openai-chat"));
    let report = RunArgs { format: Some("html,csv".into()), ..with_config(&path) };
    assert_eq!(
        err_of(&report),
        "`--format html,csv`: on `run`, --format names the stream format; to write reports use \
         `--export html,csv`"
    );
    let (_d, bad_type) =
        temp_file("t.json", br#"{"url": "http://h/", "stream_format": {"type": "grpc"}}"#);
    let e = err_of(&with_config(&bad_type));
    assert!(
        e.contains("`stream_format.type` must be one of auto, sse, ndjson, raw, openai-chat"),
        "{e}"
    );
    let (_d, typo) =
        temp_file("k.json", br#"{"url": "http://h/", "stream_format": {"content_pth": "x"}}"#);
    let e = err_of(&with_config(&typo));
    assert!(e.contains("did you mean `stream_format.content_path`"), "{e}");
}

#[test]
fn a_sweep_block_in_the_file_is_the_list_flags() {
    use streamperf::config::SweepOver;
    let (_d, path) = temp_file(
        "s.yaml",
        b"url: http://h/\nsweep:\n  concurrency: [1, 4, 16]\n  duration: 30s\n",
    );
    let c = resolve(&with_config(&path)).unwrap();
    let sweep = c.sweep.expect("a sweep");
    assert_eq!((sweep.over, sweep.levels), (SweepOver::Concurrency, vec![1.0, 4.0, 16.0]));
    assert_eq!(sweep.level_duration, Some(Duration::from_secs(30)));
    assert_eq!(c.total_requests, None, "each level runs for its duration");
    // Flags win over the file.
    let flags = RunArgs { concurrency: vec![2, 8], ..with_config(&path) };
    assert_eq!(resolve(&flags).unwrap().sweep.unwrap().levels, vec![2.0, 8.0]);
    let (_d, auto) = temp_file("a.json", br#"{"url": "http://h/", "sweep": {"auto": true}}"#);
    assert!(resolve(&with_config(&auto)).unwrap().sweep.unwrap().auto);
    let (_d, bad) = temp_file("b.json", br#"{"url": "http://h/", "sweep": {"levels": [1]}}"#);
    let e = err_of(&with_config(&bad));
    assert!(e.contains("unknown key `sweep.levels`"), "{e}");
    let (_d, bad) = temp_file("c.json", br#"{"url": "http://h/", "sweep": {"rate": [1, -2]}}"#);
    assert!(err_of(&with_config(&bad)).contains("`sweep.rate` must be a list of positive numbers"));
}
