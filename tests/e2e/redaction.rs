//! Redaction engine behaviour through the public API: one planted secret per
//! built-in rule, idempotence, modes, allowlists, field and header rules, JSON
//! inside strings, known-secret memory, config errors, precision (what must stay)
//! and the real sessions in `../shared/formats/`.
//!
//! Every fake secret is assembled at run time from pieces, so no secret-shaped
//! literal is committed (GitHub push protection and our own scanner would flag it).
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};
use skilltrace::config::Config;
use skilltrace::model::{Origin, Span, SpanKind};
use skilltrace::redact::{Field, HashKey, Mode, Redactor, Report};

use crate::redaction_support;
use redaction_support::{alnum, planted, rnd, B64, HEX};

fn redact(r: &mut Redactor, text: &str) -> (String, Report) {
    let mut rep = Report::default();
    let out = r.redact_str("run-1", text, Field::Text, &mut rep);
    (out, rep)
}

#[test]
fn every_builtin_rule_has_a_planted_secret() {
    let planted = planted();
    let r = Redactor::builtin(Mode::Mask);
    for (name, _, _) in r.rules() {
        assert!(
            planted.iter().any(|(p, _, _)| *p == name),
            "no positive test for {name}"
        );
    }
}

#[test]
fn each_planted_secret_is_redacted_and_named() {
    for (rule, text, secret) in planted() {
        let mut r = Redactor::builtin(Mode::Mask);
        let (out, rep) = redact(&mut r, &text);
        assert!(!out.contains(&secret), "{rule}: secret survived in {out:?}");
        assert!(
            out.contains(&format!("[REDACTED:{rule}]")),
            "{rule}: {out:?}"
        );
        let m = rep
            .matches
            .iter()
            .find(|m| m.rule == rule)
            .unwrap_or_else(|| panic!("{rule}: {rep:?}"));
        assert_eq!(m.field, Field::Text);
        let at = text.find(&secret).unwrap();
        assert!(
            m.start <= at && m.end >= at + secret.len(),
            "{rule}: range {}..{} vs {at}",
            m.start,
            m.end
        );
        // The report never carries the value.
        assert!(!format!("{rep:?}").contains(&secret), "{rule}");
    }
}

#[test]
fn redacting_twice_changes_nothing_in_mask_and_hash_modes() {
    for mode in [Mode::Mask, Mode::Hash] {
        for (rule, text, _) in planted() {
            let mut r = Redactor::builtin(mode);
            let (once, _) = redact(&mut r, &text);
            let mut fresh = Redactor::builtin(mode);
            let (twice, rep) = redact(&mut fresh, &once);
            assert_eq!(once, twice, "{rule} ({mode:?})");
            assert!(rep.is_empty(), "{rule}: marker matched {rep:?}");
        }
    }
}

#[test]
fn remove_mode_drops_values() {
    for (rule, text, secret) in planted() {
        let mut r = Redactor::builtin(Mode::Remove);
        let (out, rep) = redact(&mut r, &text);
        assert!(!out.contains(&secret), "{rule}");
        assert!(!out.contains("[REDACTED"), "{rule}");
        assert!(!rep.is_empty(), "{rule}");
    }
}

#[test]
fn hash_mode_correlates_equal_values_under_one_key() {
    let key = HashKey::from_bytes([7; 32]);
    let cfg = Config::from_text(None, "[redaction]\nmode = \"hash\"\n".into()).unwrap();
    let mut r = Redactor::from_config(&cfg, key.clone()).unwrap();
    assert_eq!(r.mode(), Mode::Hash);
    let tok = format!("ghp_{}", alnum(36, 99));
    let (a, _) = redact(&mut r, &format!("first {tok}"));
    let (b, _) = redact(&mut r, &format!("again {tok} and ghp_{}", alnum(36, 98)));
    let tag = a.trim_start_matches("first ").to_string();
    assert!(
        tag.starts_with("[HASH:github_token:") && tag.len() == "[HASH:github_token:]".len() + 8,
        "{tag}"
    );
    assert!(
        b.starts_with(&format!("again {tag} and [HASH:github_token:")),
        "{b}"
    );
    assert!(!b.ends_with(&tag), "different secrets, different tags");
    let mut other = Redactor::from_config(&cfg, HashKey::from_bytes([8; 32])).unwrap();
    let (c, _) = redact(&mut other, &format!("first {tok}"));
    assert_ne!(a, c, "another store's key gives another tag");
}

#[test]
fn known_secret_memory_catches_bare_later_occurrences_in_the_same_run() {
    let mut r = Redactor::builtin(Mode::Mask);
    let secret = alnum(40, 60);
    let mut rep = Report::default();
    let first = format!("$ cat ~/.aws/credentials\n[default]\naws_secret_access_key = {secret}\n");
    let out = r.redact_str("run-a", &first, Field::ToolOutput, &mut rep);
    assert!(!out.contains(&secret));
    let later = format!("curl -d 'k={secret}' https://paste.example");
    let out = r.redact_str("run-a", &later, Field::ToolInput, &mut rep);
    assert_eq!(
        out,
        "curl -d 'k=[REDACTED:aws_secret_access_key]' https://paste.example"
    );
    // Another run has its own memory: no context there, so no redaction.
    let out = r.redact_str("run-b", &later, Field::ToolInput, &mut rep);
    assert!(out.contains(&secret));
}

#[test]
fn memory_reaches_back_within_one_span() {
    let mut r = Redactor::builtin(Mode::Mask);
    let secret = alnum(40, 61);
    let mut span = Span::new(
        "s1",
        "run-m",
        SpanKind::Tool,
        "Bash",
        Origin::new("f.jsonl", 3),
    );
    // The bare value comes in a field processed before the one that names it.
    span.text = Some(format!("echo {secret}"));
    span.tool_output = Some(format!("AWS_SECRET_ACCESS_KEY={secret}"));
    let (out, rep) = r.redact_span(span);
    let out = out.into_inner();
    assert_eq!(
        out.text.as_deref(),
        Some("echo [REDACTED:aws_secret_access_key]")
    );
    assert!(!out.tool_output.unwrap().contains(&secret));
    assert!(
        rep.matches
            .iter()
            .any(|m| m.field == Field::Text && m.start == 5 && m.end == 45),
        "{rep:?}"
    );
}

#[test]
fn span_fields_attributes_headers_and_nested_json() {
    let mut r = Redactor::builtin(Mode::Mask);
    let gh = format!("ghp_{}", alnum(36, 70));
    let bearer = alnum(48, 71);
    let pw = format!("Pw{}", alnum(10, 72));
    let cookie = format!("sid={}", alnum(20, 73));
    let mut span = Span::new(
        "s2",
        "run-x",
        SpanKind::Tool,
        "Bash",
        Origin::new("f.jsonl", 9),
    );
    span.tool_input = Some(
        json!({"command": format!("curl -H 'Authorization: token {gh}' https://api.github.com"),
               "credentials": {"user": "bob", "password": pw}})
        .to_string(),
    );
    // OTLP-style: messages as JSON inside a string attribute, itself holding JSON tool arguments.
    let inner_args =
        json!({"url": "https://example.org", "headers": {"X-Api-Key": bearer}}).to_string();
    let messages =
        json!([{"role": "assistant", "parts": [{"type": "tool_call", "arguments": inner_args}]}])
            .to_string();
    span.attributes
        .insert("gen_ai.input.messages".into(), Value::String(messages));
    span.attributes.insert(
        "http.request.header.authorization".into(),
        json!([format!("Bearer {bearer}")]),
    );
    span.attributes.insert(
        "http.request.header.user-agent".into(),
        json!(["curl/8.5.0"]),
    );
    span.attributes.insert(
        "headers".into(),
        json!([["cookie", cookie], ["accept", "text/html"]]),
    );
    span.attributes.insert("input_tokens".into(), json!(1234));
    let (out, rep) = r.redact_span(span);
    let out = out.into_inner();
    let all = serde_json::to_string(&out).unwrap();
    for s in [&gh, &bearer, &pw, &cookie] {
        assert!(!all.contains(s.as_str()), "{s} leaked: {all}");
    }
    // Tool input stays valid JSON, with the user name kept.
    let ti: Value = serde_json::from_str(out.tool_input.as_deref().unwrap()).unwrap();
    assert_eq!(ti["credentials"]["user"], "bob");
    assert_eq!(ti["credentials"]["password"], "[REDACTED:sensitive_field]");
    assert!(ti["command"]
        .as_str()
        .unwrap()
        .contains("[REDACTED:github_token]"));
    // Nested JSON twice over is still valid JSON after redaction.
    let msgs: Value =
        serde_json::from_str(out.attributes["gen_ai.input.messages"].as_str().unwrap()).unwrap();
    let args: Value =
        serde_json::from_str(msgs[0]["parts"][0]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args["headers"]["X-Api-Key"], "[REDACTED:sensitive_header]");
    assert_eq!(args["url"], "https://example.org");
    // A header value is redacted whole; the marker names the rule that matches inside, if any.
    assert_eq!(
        out.attributes["http.request.header.authorization"],
        json!(["[REDACTED:bearer_token]"])
    );
    assert_eq!(
        out.attributes["http.request.header.user-agent"],
        json!(["curl/8.5.0"])
    );
    assert_eq!(
        out.attributes["headers"],
        json!([
            ["cookie", "[REDACTED:sensitive_header]"],
            ["accept", "text/html"]
        ])
    );
    assert_eq!(out.attributes["input_tokens"], json!(1234));
    // The report names fields and rules, with raw ranges that locate the value.
    let raw_in =
        json!({"command": format!("curl -H 'Authorization: token {gh}' https://api.github.com"),
               "credentials": {"user": "bob", "password": pw}})
        .to_string();
    let m = rep
        .matches
        .iter()
        .find(|m| m.field == Field::ToolInput && m.rule == "github_token")
        .unwrap();
    assert_eq!(&raw_in[m.start..m.end], gh);
    assert!(rep.matches.iter().any(|m| m.field
        == Field::Attribute("http.request.header.authorization".into())
        && m.rule == "bearer_token"));
}

#[test]
fn json_key_gives_context_to_its_value() {
    let mut r = Redactor::builtin(Mode::Mask);
    let secret = alnum(40, 80);
    let sid = format!("AC{}", rnd(32, 81, HEX));
    let text = json!({"Credentials": {"AccessKeyId": "x", "SecretAccessKey": secret}, "twilio_account_sid": sid}).to_string();
    let (out, rep) = redact(&mut r, &text);
    assert!(!out.contains(&secret) && !out.contains(&sid), "{out}");
    let names: Vec<&str> = rep.matches.iter().map(|m| m.rule.as_str()).collect();
    assert!(
        names.contains(&"aws_secret_access_key") && names.contains(&"twilio_key"),
        "{names:?}"
    );
}

#[test]
fn pem_blocks_go_whole_even_json_escaped_or_cut_off() {
    let mut r = Redactor::builtin(Mode::Mask);
    let body = rnd(64, 90, B64);
    let begin = format!("-----BEGIN OPENSSH PRIVATE {}-----", "KEY");
    let end = format!("-----END OPENSSH PRIVATE {}-----", "KEY");
    let escaped = format!(
        "{{\"type\": \"service_account\", \"private_key\": \"{begin}\\n{body}\\n{end}\\n\"}}"
    );
    let (out, _) = redact(&mut r, &escaped);
    assert!(!out.contains(&body) && !out.contains("BEGIN"), "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["type"], "service_account");
    let cut = format!("{begin}\n{body}\n{}…[truncated 900 chars]", &body[..30]);
    let (out, _) = redact(&mut r, &cut);
    assert!(!out.contains(&body[..30]), "{out}");
    assert!(out.starts_with("[REDACTED:private_key]"), "{out}");
}

#[test]
fn precision_leaves_lookalikes_alone() {
    let png = {
        use base64::Engine;
        let bytes: Vec<u8> = (0..3000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    };
    let clean = [
        "commit 4f2a9c1 fixes it; full sha 7078dc6b1ce5dd75a54ad14563c663530b82963b",
        "git checkout 19f8748648146d82ee1ad92387fc9d93613f022b",
        "id 550e8400-e29b-41d4-a716-446655440000 and 12345678-1234-5678-1234-567812345678",
        "\"timestamp\": 1739376145227, \"ts_ns\": 1700000000000000000, \"epoch\": 1700000000",
        "2026-02-12T16:02:25.227Z started; version 0.104.0-alpha.1 on 192.168.100.200:8080",
        "task-management-system and risk-assessment-framework-v2 use sk-learn",
        "<task-notification>\n<task-id>b7636e2</task-id>",
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "Enter your password in the password field, then refresh the token.",
        "password_field = form.fields['password']",
        "token = get_token()",
        "def check_password(password: str) -> bool:",
        "api_key: Optional[str] = None",
        "export GITHUB_TOKEN=${GITHUB_TOKEN}",
        "max_tokens: 4096, tokens: 76365, input_tokens=1234",
        "secret_santa_list = []",
        "headers = {\"Authorization\": f\"Bearer {token}\"}",
        "Use Bearer token authentication for the API.",
        "password = os.environ[\"DB_PASSWORD\"]",
        "cwd=/home/USER/projects/spotter; PWD=/home/USER",
        "npm install @types/node lodash@4.17.21; see icon@2x.png; git@github.com:org/repo.git",
        "[REDACTED_ENCRYPTED_CONTENT len=1764 sha=e23f6ec6]",
        "https://github.com/org/repo/blob/main/README.md?plain=1",
        "Bearer my-secret-token-goes-here",
        "phone-number-field and 1-800-FLOWERS",
    ];
    let mut r = Redactor::builtin(Mode::Mask);
    for text in clean.iter().map(|s| s.to_string()).chain([png]) {
        let (out, rep) = redact(&mut r, &text);
        assert!(rep.is_empty(), "{text:.80}: {rep:?}");
        assert_eq!(out, text);
    }
}

/// Every string value in a JSON document, with its path.
fn strings(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => out.push((path.to_string(), s.clone())),
        Value::Array(a) => a.iter().for_each(|x| strings(x, path, out)),
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| strings(x, &format!("{path}.{k}"), out)),
        _ => {}
    }
}

fn format_lines(dir: &str) -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/formats")
        .join(dir);
    let root = if root.exists() {
        root
    } else {
        std::path::PathBuf::from("/work/shared/formats").join(dir)
    };
    let mut out = Vec::new();
    for e in std::fs::read_dir(&root).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "jsonl") {
            for line in std::fs::read_to_string(&p).unwrap().lines() {
                out.push((p.display().to_string(), line.to_string()));
            }
        }
    }
    assert!(out.len() > 20, "{dir}: {}", out.len());
    out
}

#[test]
fn real_sessions_redact_nothing_but_what_is_planted() {
    let mut lines = format_lines("claude-code");
    lines.extend(format_lines("codex"));
    let mut r = Redactor::builtin(Mode::Mask);
    // The sanitised real sessions hold no secret or PII: ids, UUIDs, timestamps, paths,
    // token counts, hook commands and `[REDACTED_...]` placeholders must all survive.
    for (path, line) in &lines {
        let v: Value = serde_json::from_str(line).unwrap();
        let mut all = Vec::new();
        strings(&v, "", &mut all);
        for (p, s) in all {
            let (out, rep) = redact(&mut r, &s);
            assert!(rep.is_empty(), "{path} {p}: {s:.120} -> {rep:?}");
            assert_eq!(out, s);
        }
        let (out, rep) = redact(&mut r, line);
        assert!(rep.is_empty(), "{path}: whole line matched {rep:?}");
        assert_eq!(&out, line);
    }
    // Plant a key into one real tool result: exactly that value changes, nothing else.
    let (_, line) = lines
        .iter()
        .find(|(_, l)| l.contains("\"tool_result\""))
        .unwrap();
    let key = format!("sk-ant-api03-{}", alnum(90, 100));
    let mut v: Value = serde_json::from_str(line).unwrap();
    let content = &mut v["message"]["content"][0]["content"];
    let original = content
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| content.to_string());
    *content = Value::String(format!("{original}\nANTHROPIC_API_KEY={key}"));
    let planted = v.to_string();
    let (out, rep) = redact(&mut r, &planted);
    assert_eq!(rep.matches.len(), 1, "{rep:?}");
    assert_eq!(rep.matches[0].rule, "anthropic_api_key");
    let back: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        back["message"]["content"][0]["content"],
        Value::String(format!(
            "{original}\nANTHROPIC_API_KEY=[REDACTED:anthropic_api_key]"
        ))
    );
    let mut expect = v.clone();
    expect["message"]["content"][0]["content"] = back["message"]["content"][0]["content"].clone();
    assert_eq!(back, expect, "every other field is unchanged");
}

#[test]
fn config_rules_allowlists_fields_and_disable() {
    let text = r#"
[redaction]
mode = "mask"
disable = ["phone"]
allowlist = ["test@example.com"]
allowlist_patterns = ['.*@corp\.example']
field_paths = ["auth.pin", "employee_code"]
headers = ["x-internal-token"]

[[redaction.rules]]
name = "employee_id"
pattern = 'EMP-\d{6}'
keywords = ["emp-"]
severity = "low"
"#;
    let cfg = Config::from_text(Some("/tmp/cfg.toml".into()), text.into()).unwrap();
    let mut r = Redactor::from_config(&cfg, HashKey::random()).unwrap();
    assert!(r.is_enabled());
    let (out, rep) = redact(&mut r, "EMP-123456 mailed test@example.com, bob@corp.example and eve@evil.example; call +1-415-555-2671");
    assert_eq!(out, "[REDACTED:employee_id] mailed test@example.com, bob@corp.example and [REDACTED:email]; call +1-415-555-2671");
    assert_eq!(rep.matches[0].severity, skilltrace::model::Severity::Low);
    let doc = json!({"auth": {"pin": 4321, "user": "x"}, "employee_code": "A1", "x-internal-token": "abcdefgh"}).to_string();
    let (out, _) = redact(&mut r, &doc);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["auth"]["pin"], "[REDACTED:sensitive_field]");
    assert_eq!(v["auth"]["user"], "x");
    assert_eq!(v["employee_code"], "[REDACTED:sensitive_field]");
    assert_eq!(v["x-internal-token"], "[REDACTED:sensitive_header]");
}

#[test]
fn config_errors_are_one_line_and_build_nothing() {
    let bad = "[redaction]\nmode = \"mask\"\n\n[[redaction.rules]]\nname = \"broken\"\npattern = 'EMP-(\\d{6}'\n";
    let cfg = Config::from_text(Some("/tmp/c.toml".into()), bad.into()).unwrap();
    let e = Redactor::from_config(&cfg, HashKey::random())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("/tmp/c.toml:5: redaction rule 'broken': pattern does not compile"),
        "{e}"
    );
    assert!(!e.contains('\n'), "{e}");
    let cfg = Config::from_text(None, "[redaction]\ndisable = [\"nope\"]\n".into()).unwrap();
    let e = Redactor::from_config(&cfg, HashKey::random())
        .unwrap_err()
        .to_string();
    assert!(e.contains("'nope'") && e.contains(":2:"), "{e}");
    let cfg = Config::from_text(None, "[redaction]\nmode = \"shout\"\n".into()).unwrap();
    assert!(Redactor::from_config(&cfg, HashKey::random()).is_err());
    let cfg = Config::from_text(None, "[redaction]\nallowlist_patterns = ['(']\n".into()).unwrap();
    assert!(Redactor::from_config(&cfg, HashKey::random()).is_err());
}

#[test]
fn disabling_must_be_explicit() {
    let cfg = Config::from_text(None, "[redaction]\nmode = \"hash\"\n".into()).unwrap();
    assert!(Redactor::from_config(&cfg, HashKey::random())
        .unwrap()
        .is_enabled());
    assert!(Redactor::from_config(&Config::default(), HashKey::random())
        .unwrap()
        .is_enabled());
    let cfg = Config::from_text(None, "[redaction]\nenabled = false\n".into()).unwrap();
    let mut r = Redactor::from_config(&cfg, HashKey::random()).unwrap();
    assert!(!r.is_enabled());
    let t = format!("ghp_{}", alnum(36, 1));
    assert_eq!(redact(&mut r, &t).0, t);
}

#[test]
fn findings_runs_and_errors_are_redacted_too() {
    let mut r = Redactor::builtin(Mode::Mask);
    let tok = format!("ghp_{}", alnum(36, 5));
    let run = skilltrace::model::Run {
        id: "r".into(),
        title: Some(format!("use {tok}")),
        ..Default::default()
    };
    assert_eq!(
        r.redact_run(run).get().title.as_deref(),
        Some("use [REDACTED:github_token]")
    );
    let err = skilltrace::model::ParseError {
        path: "f".into(),
        line: 1,
        message: format!("bad {tok}"),
    };
    assert_eq!(
        r.redact_parse_error(err).get().message,
        "bad [REDACTED:github_token]"
    );
    assert_eq!(
        r.redact_text(&format!("log {tok}")).get(),
        "log [REDACTED:github_token]"
    );
}

#[test]
fn more_positive_forms() {
    let pw = format!("Pw{}", alnum(12, 200));
    let cases: Vec<(&str, String, String)> = vec![
        (
            "phone",
            "+44 20 7946 0958".into(),
            "office +44 20 7946 0958".into(),
        ),
        (
            "phone",
            "(415) 555-2671".into(),
            "cell: (415) 555-2671.".into(),
        ),
        (
            "phone",
            "+1 555 123 4567".into(),
            "tel +1 555 123 4567".into(),
        ),
        (
            "credit_card",
            "378282246310005".into(),
            "amex 378282246310005".into(),
        ),
        (
            "credit_card",
            ["5500", "0000", "0000", "0004"].join("-"),
            format!("mc {}", ["5500", "0000", "0000", "0004"].join("-")),
        ),
        (
            "openai_api_key",
            format!("sk-{}", alnum(48, 201)),
            format!("OPENAI_API_KEY=sk-{}", alnum(48, 201)),
        ),
        (
            "openai_api_key",
            format!("sk-svcacct-{}", alnum(60, 202)),
            format!("k sk-svcacct-{}", alnum(60, 202)),
        ),
        (
            "slack_token",
            format!("xoxp-{}", alnum(40, 203)),
            format!("xoxp-{}", alnum(40, 203)),
        ),
        (
            "secret_assignment",
            pw.clone(),
            format!("db:\n  password: \"{pw}\"\n"),
        ),
        (
            "secret_assignment",
            pw.clone(),
            format!("config = {{'api_key': '{pw}', 'x': 1}}"),
        ),
        (
            "secret_assignment",
            pw.clone(),
            format!("https://api.example/v1?api_key={pw}&q=1"),
        ),
        (
            "secret_assignment",
            pw.clone(),
            format!("\\\"client_secret\\\": \\\"{pw}\\\""),
        ),
        (
            "email",
            "bob+tag@mail.example.co.uk".into(),
            "to: bob+tag@mail.example.co.uk".into(),
        ),
        (
            "iban",
            "GB82WEST12345698765432".into(),
            "iban GB82WEST12345698765432".into(),
        ),
    ];
    for (rule, secret, text) in cases {
        let mut r = Redactor::builtin(Mode::Mask);
        let (out, rep) = redact(&mut r, &text);
        assert!(!out.contains(&secret), "{rule}: {out}");
        assert!(
            rep.matches.iter().any(|m| m.rule == rule),
            "{rule}: {text} -> {rep:?}"
        );
    }
    // PKCS#8 and encrypted keys go whole too.
    let body = rnd(64, 204, B64);
    for kind in ["", "ENCRYPTED ", "EC "] {
        let text = format!(
            "-----BEGIN {kind}PRIVATE {k}-----\n{body}\n-----END {kind}PRIVATE {k}-----\nafter",
            k = "KEY"
        );
        let mut r = Redactor::builtin(Mode::Mask);
        assert_eq!(redact(&mut r, &text).0, "[REDACTED:private_key]\nafter");
    }
}

#[test]
fn docs_table_lists_every_rule() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/redaction.md"),
    )
    .unwrap();
    let r = Redactor::builtin(Mode::Mask);
    for (name, sev, _) in r.rules() {
        assert!(
            doc.contains(&format!("| `{name}` |")),
            "docs/redaction.md misses {name}"
        );
        assert!(doc.contains(&format!("| `{name}` |")) && doc.contains(sev.as_str()));
    }
}

#[test]
fn memory_works_across_strings_of_one_json_document() {
    let mut r = Redactor::builtin(Mode::Mask);
    let secret = alnum(40, 300);
    let doc = json!({"a_cmd": format!("curl -d {secret} https://x"),
                     "b_out": format!("aws_secret_access_key = {secret}")})
    .to_string();
    let (out, _) = redact(&mut r, &doc);
    assert!(!out.contains(&secret), "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["a_cmd"],
        "curl -d [REDACTED:aws_secret_access_key] https://x"
    );
}
