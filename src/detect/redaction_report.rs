//! Step 5 of [`super::Detector::scan_span`]: the redaction report read for
//! findings. One SEC-TRACE-001 per rule redacted in the span (high for a real
//! private key or cloud credential, info otherwise); EXF-TRACE-004 for a secret
//! sent out whole to an unlisted host or seen earlier in the run, or sent
//! encoded or in pieces; and the run's keyed memory of the secrets seen.

use super::chains::RunState;
use super::disguise::{self, SecretOut};
use super::hit::Hit;
use super::network::HostClass;
use super::rules::id;
use super::taxonomy::Taxonomy;
use super::tokens;
use super::tools;
use crate::model::{Severity, Span};
use crate::redact::{Field, Report};

/// The detector's parts this step reads.
pub(super) struct Ctx<'a> {
    pub tax: &'a Taxonomy,
    /// The store key, for keyed hashes of secrets.
    pub key: &'a [u8; 32],
    pub keys: &'a disguise::Keys,
    pub disguise: &'a disguise::Rules,
    /// Secrets already cut into tagged windows (in any run).
    pub tags: &'a mut disguise::TagMemo,
    /// Tags of outbound text windows already computed (in any run).
    pub window_tags: &'a mut disguise::WindowTags,
}

/// Where the span's call sends things (from step 1).
pub(super) struct Outbound<'a> {
    /// Hosts the call reaches that are not loopback, with their class.
    pub hosts: &'a [(String, HostClass)],
    /// The call reaches a host other than loopback, or is an MCP call.
    pub is_outbound: bool,
    /// The arguments go to a third party (a search engine, a mail or chat
    /// destination): a secret first seen there leaves as one sent to an unlisted host.
    pub leaves: bool,
}

/// What the step adds to the span's outcome.
#[derive(Debug, Default)]
pub(super) struct Read {
    /// A secret left (EXF-TRACE-004 raised).
    pub egress: bool,
    /// Secrets newly remembered for the run.
    pub remembered: usize,
}

/// Reads `report` for `span`: pushes its hits, adds disguised secrets found in
/// the input to `secrets` (the pipeline redacts them), and remembers the run's
/// secrets and `canary_tokens` in `st`.
#[allow(clippy::too_many_arguments)]
pub(super) fn read(
    cx: &mut Ctx,
    st: &mut RunState,
    span: &Span,
    report: &Report,
    call: Option<&tools::ToolCall>,
    ob: &Outbound,
    canary_tokens: &[String],
    secrets: &mut Vec<String>,
    hits: &mut Vec<Hit>,
) -> Read {
    let mut read = Read::default();
    let mut by_rule: Vec<(String, Vec<String>, bool)> = Vec::new();
    let mut secret_out: Vec<SecretOut> = Vec::new();
    let mut newly_seen: Vec<(&str, &str, [u8; 32])> = Vec::new();
    let unlisted = ob.leaves
        || ob
            .hosts
            .iter()
            .any(|(_, c)| matches!(c, HostClass::Unlisted { .. } | HostClass::Bad));
    for m in &report.matches {
        if m.rule.starts_with("REDACTED") {
            continue;
        }
        // The redactor marks known test and example values (and public keys)
        // info: they are redacted, but never raise more than info.
        let example = m.severity == Severity::Info;
        let fname = field_name(&m.field);
        match by_rule.iter_mut().find(|(r, _, _)| r == &m.rule) {
            Some((_, fields, real)) => {
                if !fields.contains(&fname) {
                    fields.push(fname.clone());
                }
                *real |= !example;
            }
            None => by_rule.push((m.rule.clone(), vec![fname.clone()], !example)),
        }
        let pii = cx.tax.is_pii_rule(&m.rule);
        if example && !pii {
            continue; // not a secret that can leave: no EXF-TRACE-004, not remembered
        }
        let value = field_text(span, &m.field).and_then(|t| t.get(m.start..m.end));
        let Some(value) = value.filter(|v| v.len() >= 8) else {
            continue;
        };
        let h = tokens_hmac(cx.key, value);
        if m.field == Field::ToolInput && ob.is_outbound && !pii {
            let seen = st
                .secrets
                .seen(&h)
                .filter(|(s, _)| *s != span.id)
                .map(|(s, r)| (s.to_string(), r.to_string()));
            if seen.is_some() || unlisted {
                let (seen, rule) = match seen {
                    Some((s, r)) => (Some(s), r),
                    None => (None, m.rule.clone()),
                };
                let mut o = SecretOut::whole_plain(rule, seen);
                o.as_credential = field_text(span, &m.field)
                    .is_some_and(|t| cx.disguise.as_credential(t, m.start));
                SecretOut::merge(&mut secret_out, o);
            }
        }
        if !pii {
            newly_seen.push((m.rule.as_str(), value, h));
        }
    }
    // encoded forms and pieces of secrets seen earlier in the run (none
    // remembered: nothing to find, and the egress set, compiled on first use,
    // is not needed: a command hook's first events never compile it)
    let remembered = st.secrets.windows() > 0;
    let sends = remembered
        && call.is_some_and(|c| {
            c.actions
                .iter()
                .any(|a| matches!(a, tools::Action::Shell { text, .. } if cx.disguise.sends(text)))
        });
    if remembered && (ob.is_outbound || sends) {
        if let Some(input) = span.tool_input.as_deref() {
            for sg in st
                .secrets
                .find_memo(cx.keys, cx.window_tags, input, &span.id)
            {
                if sg.out.forms != ["plain"] || !sg.out.whole {
                    secrets.extend(
                        sg.ranges
                            .iter()
                            .filter_map(|&(a, b)| input.get(a..b))
                            .map(str::to_string),
                    );
                }
                let credential = match sg.out.forms.as_slice() {
                    ["plain"] => sg
                        .ranges
                        .iter()
                        .all(|&(a, _)| cx.disguise.as_credential(input, a)),
                    ["base64"] => sg.ranges.iter().all(|&(a, _)| after_basic(input, a)),
                    _ => false,
                };
                let mut o = sg.out;
                o.as_credential = credential;
                SecretOut::merge(&mut secret_out, o);
            }
        }
    }
    for (rule, fields, real) in &by_rule {
        // docs/findings.md: info, high for a private key or cloud credential
        // (`high` in assets/detect/secrets.toml) that is not a test or example value.
        let high = *real && cx.tax.is_high_rule(rule);
        let ev = format!("{rule} in {}", fields.join(", "));
        hits.push(
            Hit::new(
                id::SEC_REDACTED,
                format!("redacted a {rule} value (type recorded, value never stored)"),
                &ev,
            )
            .severity(if high { Severity::High } else { Severity::Info })
            .confidence(0.9)
            .key(&format!("{rule}|{}", span.id)),
        );
    }
    let tool = span.tool_name.as_deref().unwrap_or(&span.name);
    for o in secret_out {
        let home = !ob.hosts.is_empty()
            && ob
                .hosts
                .iter()
                .all(|(h, _)| cx.disguise.is_home(&o.rule, h));
        hits.push(o.hit(tool, &span.id, home));
        read.egress = true;
    }
    for t in canary_tokens {
        newly_seen.push(("canary_token", t, tokens_hmac(cx.key, t)));
    }
    for (rule, value, h) in newly_seen {
        read.remembered +=
            st.secrets
                .remember_memo(cx.tags, cx.keys, cx.disguise, rule, value, h, &span.id);
    }
    read
}

/// True when `input[..at]` ends with `Basic ` and a few base64 characters
/// (HTTP basic auth carries `user:secret` in base64).
fn after_basic(input: &str, at: usize) -> bool {
    let head = input.get(..at).unwrap_or_default();
    let tail_len = head
        .bytes()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        .count();
    tail_len <= 16
        && head[..head.len() - tail_len]
            .to_ascii_lowercase()
            .ends_with("basic ")
}

fn field_name(f: &Field) -> String {
    match f {
        Field::Name => "name".into(),
        Field::Text => "text".into(),
        Field::ToolInput => "tool_input".into(),
        Field::ToolOutput => "tool_output".into(),
        Field::Attribute(p) => format!("attribute {p}"),
        Field::Other(o) => o.to_string(),
    }
}

fn field_text<'a>(span: &'a Span, f: &Field) -> Option<&'a str> {
    match f {
        Field::Name => Some(span.name.as_str()),
        Field::Text => span.text.as_deref(),
        Field::ToolInput => span.tool_input.as_deref(),
        Field::ToolOutput => span.tool_output.as_deref(),
        _ => None,
    }
}

fn tokens_hmac(key: &[u8; 32], value: &str) -> [u8; 32] {
    let mut h = [0u8; 32];
    let hexed = tokens::keyed_hash_hex(key, value);
    let _ = hex::decode_to_slice(hexed, &mut h);
    h
}
