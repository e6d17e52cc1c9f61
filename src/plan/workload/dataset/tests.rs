use std::path::PathBuf;

use super::*;
use crate::plan::workload::bodies::Message;

/// `text` written to a file called `name` in a fresh folder, read as a dataset.
fn read_as(name: &str, text: &str, format: Option<DatasetFormat>) -> anyhow::Result<Dataset> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, text).unwrap();
    Dataset::read(&source(file, format))
}

fn source(file: PathBuf, format: Option<DatasetFormat>) -> DataSource {
    DataSource { file, format, shuffle: None, column: None, encoding: "utf-8".into() }
}

/// The user message each record sends, in order.
fn prompts(dataset: &Dataset) -> Vec<String> {
    (0..dataset.len() as u64)
        .map(|i| match &dataset.item(i).content {
            Content::Messages(m) => m.last().unwrap().content.clone(),
            Content::Body(b) => String::from_utf8_lossy(b).into_owned(),
        })
        .collect()
}

#[test]
fn every_format_is_read_in_order_and_known_by_its_name_and_first_character() {
    let jsonl =
        "{\"prompt\": \"a\"}\n\n{\"messages\": [{\"role\": \"user\", \"content\": \"b\"}]}\n";
    let cases = [
        ("d.jsonl", jsonl, DatasetFormat::Jsonl),
        ("d.json", "[{\"prompt\": \"a\"},\n \"b\"]", DatasetFormat::Json),
        ("d.data", jsonl, DatasetFormat::Jsonl),
        ("d.txt", "a\n\n  \nb\n", DatasetFormat::Text),
        ("d", "a\r\nb\r\n", DatasetFormat::Text),
        ("d.csv", "id,prompt\n1,a\n2,b\n", DatasetFormat::Csv),
        (
            "d.json",
            r#"[{"conversations": [{"from": "human", "value": "a"}]},
                {"conversations": [{"from": "human", "value": "b"}]}]"#,
            DatasetFormat::ShareGpt,
        ),
    ];
    for (name, text, format) in cases {
        let d = read_as(name, text, None).unwrap();
        assert_eq!((d.format(), prompts(&d)), (format, vec!["a".into(), "b".into()]), "{name}");
        assert_eq!(d.item(2).content, d.item(0).content, "{name}: records cycle");
    }
    let named = read_as("d.data", "[\"a\"]", Some(DatasetFormat::ShareGpt)).unwrap();
    assert_eq!(prompts(&named), ["a"]);
}

#[test]
fn a_bad_record_names_the_file_line_and_field() {
    let e = |name: &str, text: &str| read_as(name, text, None).unwrap_err().to_string();
    let err = e("d.jsonl", "{\"prompt\": \"a\"}\n\n{\"prompt\": 3}\n");
    assert!(err.ends_with("d.jsonl:3: `prompt` must be a string, got a number"), "{err}");
    let err = e("d.jsonl", "{\"prompt\": \"a\"}\n{\"prompt\": \"b\"\n");
    assert!(err.contains("d.jsonl:2: not a JSON record: EOF"), "{err}");
    let err = e(
        "d.json",
        "[\n  {\"prompt\": \"a\"},\n  {\"prompt\": \"b\",\n   \"output_tokens\": -1}\n]",
    );
    assert!(
        err.ends_with("d.json:3: `output_tokens` must be a whole number of tokens above 0, got -1"),
        "{err}"
    );
    let err = e("d.json", "[\n{\"prompt\": \"a\"},\n{\"prompt\" \"b\"}]");
    assert!(err.contains("d.json:3: not a JSON array of records"), "{err}");
    let err = e("d.csv", "id,question\n1,a\n");
    assert!(err.contains("no `prompt` column") && err.contains("id, question"), "{err}");
    let err = e("d.csv", "prompt,output_tokens\na,5\nb,many\n");
    assert!(
        err.ends_with("d.csv:3: `output_tokens` must be a whole number above 0, got \"many\""),
        "{err}"
    );
}

#[test]
fn an_empty_dataset_is_an_error() {
    for (name, text) in [("d.jsonl", "\n\n"), ("d.json", "[]"), ("d.txt", " \n")] {
        let err = read_as(name, text, None).unwrap_err().to_string();
        assert!(err.contains(name) && err.contains("the dataset has no records"), "{err}");
    }
    let missing = Dataset::read(&source(PathBuf::from("/nonexistent/d.jsonl"), None));
    assert!(
        missing.unwrap_err().to_string().starts_with("cannot read data file /nonexistent/d.jsonl")
    );
}

#[test]
fn a_shuffle_is_a_permutation_the_seed_repeats() {
    let text: String = (0..50).map(|i| format!("p{i}\n")).collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("d.txt");
    std::fs::write(&file, text).unwrap();
    let order = |seed: Option<u64>| {
        prompts(
            &Dataset::read(&DataSource { shuffle: seed, ..source(file.clone(), None) }).unwrap(),
        )
    };
    let (plain, seven) = (order(None), order(Some(7)));
    assert_eq!(seven, order(Some(7)));
    assert_ne!(seven, plain);
    assert_ne!(seven, order(Some(8)));
    let mut sorted = seven.clone();
    sorted.sort();
    let mut expected = plain.clone();
    expected.sort();
    assert_eq!(sorted, expected);
}

#[test]
fn csv_rows_give_their_lengths() {
    let d = read_as("d.csv", "prompt,output_tokens,input_tokens\nhello,5,\n", None).unwrap();
    let item = d.item(0);
    assert_eq!((item.output_tokens, item.input_tokens), (Some(5), None));
    assert_eq!(item.content, Content::Messages(vec![Message::user("hello")]));
}
