//! What a [`Config`] shows the layers below it: the engine's settings, one sweep level's
//! config, and the redacted view written into the result file.

use serde_json::{Value, json};

use super::*;

impl Config {
    /// What the engine needs of this config (the measuring core reads no config).
    pub fn engine_settings(&self) -> crate::measure::engine::EngineSettings {
        crate::measure::engine::EngineSettings {
            method: self.method.clone(),
            timeout: self.timeout,
            format: self.stream_format.clone(),
            tokenizer: self.tokenizer.clone(),
            save_output: self.save_output,
            warmup: self.load.warmup,
            tls: self.tls.clone(),
            proxy: self.proxy.clone(),
            max_redirects: self.max_redirects,
        }
    }

    /// This config at one level of `sweep`: that concurrency or rate, for the level's
    /// duration when the sweep sets one.
    pub fn at_level(&self, sweep: &Sweep, level: f64) -> Config {
        let mut config = self.clone();
        match sweep.over {
            SweepOver::Concurrency => config.concurrency = level as u64,
            SweepOver::Rate => config.load.rate = Some(level),
        }
        if let Some(d) = sweep.level_duration {
            config.load.duration = Some(d);
        }
        config.sweep_level = Some(level);
        config
    }

    /// The proxy requests to the URL go through, credentials hidden (`None`: direct).
    pub fn proxy_shown(&self) -> Option<String> {
        proxy_for(&self.proxy, &self.url).ok().flatten()
    }

    /// The `config` section of the result file: the original tool's keys (`url`, `method`,
    /// `concurrency`, `total_requests`, `timestamp`) first, then `timeout`, `headers`, `body`,
    /// `data_source`, `stream_format` and `config_file`. Secret headers show `"***"`; every
    /// `${NAME}` value and credential is redacted.
    pub fn result_view(&self, timestamp: &str) -> Value {
        let r = &self.redactor;
        let headers: Map<String, Value> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let shown = match Redactor::is_secret_header(name) {
                    true => "***".to_string(),
                    false => r.redact(value),
                };
                (name.clone(), Value::String(shown))
            })
            .collect();
        let data_source = self.data_source.as_ref().map(|ds| {
            json!({
                // The original tool's only type; a dataset says the format it was read as.
                "type": ds.format.map_or("auto", |f| f.name()),
                "file": r.redact(&ds.file.display().to_string()),
                "column": ds.column,
                "encoding": ds.encoding,
                "shuffle_seed": ds.shuffle,
            })
        });
        let sf = &self.stream_format;
        let mut view = json!({
            "url": r.redact(&self.url),
            "method": self.method,
            "concurrency": self.concurrency,
            "total_requests": self.total_requests,
            "timestamp": timestamp,
            "timeout": self.timeout.as_secs_f64(),
            "headers": headers,
            "body": self.body.as_ref().map(|b| r.redact_json(b)),
            "data_source": data_source,
            "stream_format": {
                "type": sf.kind,
                "first_token_event": sf.first_token_event,
                "completion_event": sf.completion_event,
                "output_path": sf.output_path,
                "content_path": sf.content_path,
                "reasoning_path": sf.reasoning_path,
                "usage_path": sf.usage_path,
                "error_path": sf.error_path,
                "done_marker": sf.done_marker,
                "max_event_bytes": sf.max_event_bytes(),
            },
            "tokenizer": self.tokenizer,
            "proxy": self.proxy_shown(),
            "max_redirects": self.max_redirects,
            "load": self.load.view(),
            "sweep": self.sweep.as_ref().map(|s| json!({
                "over": s.over.name(),
                "levels": s.levels,
                "auto": s.auto.then_some(sweep::AUTO_METHOD),
                "level_duration": s.level_duration.map(|d| d.as_secs_f64()),
            })),
            "config_file": self.config_path.as_ref().map(|p| p.display().to_string()),
            // The report's language, so `streamperf report` renders the same page again.
            "lang": self.lang,
            // The history's names for the run, so a result file says which run it is.
            "label": self.history.label.as_deref().map(|l| r.redact(l)),
            "tags": (!self.history.tags.is_empty()).then(|| {
                let tags = self.history.tags.iter();
                tags.map(|(k, v)| (k.clone(), Value::String(r.redact(v)))).collect::<Map<_, _>>()
            }),
        });
        if let Some(synthetic) = &self.synthetic {
            view["synthetic"] = synthetic.view();
        }
        if let Some(built) = &self.built {
            view["built_bodies"] = built.view();
        }
        if let Some(sessions) = &self.sessions {
            view["sessions"] = sessions.view();
        }
        if let Some(trace) = &self.trace {
            view["trace"] = trace.view();
        }
        if let Some(shard) = &self.shard {
            view["shard"] = shard.view();
        }
        view
    }
}

/// The proxy `url` (placeholders standing for `x`, as [`flags::check_url`] probes it) goes
/// through, shown with its credentials hidden.
pub(crate) fn proxy_for(proxy: &ProxySettings, url: &str) -> anyhow::Result<Option<String>> {
    let probe = crate::plan::workload::template::replace_all(url, |_| Some("x"));
    match url::Url::parse(probe.trim()) {
        Ok(url) => Ok(proxy.for_url(&url)?.map(|p| p.to_string())),
        Err(_) => Ok(None),
    }
}
