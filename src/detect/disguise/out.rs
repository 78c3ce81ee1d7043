//! One secret leaving in one outbound call, as EXF-TRACE-004 reports it: the
//! whole secret is critical, a piece high (critical once the pieces sent by
//! the run add up to the whole), a secret sent only to its own service low.

use crate::detect::hit::Hit;
use crate::detect::rules::id;
use crate::model::Severity;

/// A secret sent out by the current call.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretOut {
    pub rule: String,
    /// Where it was first seen (`None`: first seen in this very call).
    pub seen: Option<String>,
    /// Forms it was spelled in, e.g. `["base64"]`.
    pub forms: Vec<&'static str>,
    /// Bytes of the secret this call carries, and its length.
    pub bytes: usize,
    pub len: usize,
    /// This call carries (about) all of it.
    pub whole: bool,
    /// With the earlier calls of the run, (about) all of it has now left.
    pub whole_with_earlier: bool,
    /// Earlier outbound calls that carried other pieces.
    pub earlier_calls: Vec<String>,
    /// Used the way a credential is (plain, or base64 after `Basic `): only
    /// then can sending it to its own service be use rather than exfiltration.
    pub as_credential: bool,
}

impl SecretOut {
    /// A whole secret, plain, as redaction found it in the arguments.
    pub fn whole_plain(rule: String, seen: Option<String>) -> SecretOut {
        SecretOut {
            rule,
            seen,
            forms: vec!["plain"],
            bytes: 0,
            len: 0,
            whole: true,
            whole_with_earlier: true,
            earlier_calls: Vec::new(),
            as_credential: true,
        }
    }

    /// Adds `o` to `list`, folding it into an entry for the same secret.
    pub fn merge(list: &mut Vec<SecretOut>, o: SecretOut) {
        match list
            .iter_mut()
            .find(|x| x.rule == o.rule && (x.seen == o.seen || x.seen.is_none()))
        {
            Some(x) => {
                for f in o.forms {
                    if !x.forms.contains(&f) {
                        x.forms.push(f);
                    }
                }
                x.seen = x.seen.take().or(o.seen);
                x.bytes = x.bytes.max(o.bytes);
                x.len = x.len.max(o.len);
                x.whole_with_earlier |= o.whole_with_earlier;
                x.as_credential |= o.as_credential;
                x.earlier_calls.extend(o.earlier_calls);
            }
            None => list.push(o),
        }
    }

    /// The EXF-TRACE-004 hit raised on call `span` (tool `tool`); `home`: every
    /// host it reaches is the secret's own service.
    pub fn hit(&self, tool: &str, span: &str, home: bool) -> Hit {
        let rule = &self.rule;
        let forms = self.forms.join(", ");
        let how = if self.forms == ["plain"] {
            String::new()
        } else {
            format!(" {forms}")
        };
        let mut msg = match (&self.seen, self.whole) {
            (Some(s), true) => format!(
                "a {rule} secret first seen in span {s} is sent out{how} in this tool call's arguments"
            ),
            (Some(s), false) => format!(
                "a {}-character piece of a {rule} secret ({} characters) first seen in span {s} is sent out{how} in this tool call's arguments",
                self.bytes, self.len
            ),
            (None, _) => format!(
                "a {rule} secret is sent to a non-allowlisted host in this tool call's arguments"
            ),
        };
        if !self.whole && self.whole_with_earlier && !self.earlier_calls.is_empty() {
            msg.push_str(&format!(
                "; with the pieces sent by span(s) {} all of it has now left",
                self.earlier_calls.join(", ")
            ));
        }
        let severity = if home && self.as_credential {
            msg.push_str(" (to its own service: use, not exfiltration)");
            Severity::Low
        } else if self.whole || self.whole_with_earlier {
            Severity::Critical
        } else {
            Severity::High
        };
        let mut ev = format!("{rule} in outbound arguments of {tool}");
        if !self.whole {
            ev.push_str(&format!(
                " ({} of {} characters, {forms})",
                self.bytes, self.len
            ));
        } else if !how.is_empty() {
            ev.push_str(&format!(" ({forms})"));
        }
        // A run that sends many pieces lists many earlier calls: deduplicated
        // through a set (a scan of the list per call was quadratic).
        let mut links: Vec<String> = self.seen.iter().cloned().collect();
        let mut have: crate::hash::HashSet<&str> = self.seen.iter().map(String::as_str).collect();
        for c in &self.earlier_calls {
            if have.insert(c) {
                links.push(c.clone());
            }
        }
        Hit::new(id::EXF_SECRET_OUT, msg, &ev)
            .severity(severity)
            .key(&format!("secret|{rule}|{span}"))
            .confidence(if self.whole { 0.9 } else { 0.8 })
            .links(links)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(whole_with_earlier: bool) -> SecretOut {
        SecretOut {
            rule: "aws_secret_access_key".into(),
            seen: Some("r".into()),
            forms: vec!["base64"],
            bytes: 20,
            len: 40,
            whole: false,
            whole_with_earlier,
            earlier_calls: vec!["c1".into()],
            as_credential: false,
        }
    }

    #[test]
    fn severity_follows_how_much_left_and_where() {
        let h = piece(false).hit("Bash", "c2", false);
        assert_eq!(h.severity, Severity::High);
        assert_eq!(h.links, vec!["r".to_string(), "c1".to_string()]);
        assert!(h.message.contains("20-character piece") && h.message.contains("base64"));
        let h = piece(true).hit("Bash", "c2", false);
        assert_eq!(h.severity, Severity::Critical);
        assert!(h.message.contains("all of it has now left"));
        let h = SecretOut::whole_plain("openai_api_key".into(), Some("r".into()))
            .hit("Bash", "c", true);
        assert_eq!(h.severity, Severity::Low);
        assert!(h.message.contains("span r") && h.message.contains("own service"));
        let h = SecretOut::whole_plain("openai_api_key".into(), None).hit("Bash", "c", false);
        assert_eq!(h.severity, Severity::Critical);
        assert!(h.links.is_empty());
    }

    #[test]
    fn merging_keeps_one_entry_per_secret() {
        let mut l = vec![SecretOut::whole_plain("aws".into(), Some("r".into()))];
        let mut p = piece(false);
        p.rule = "aws".into();
        SecretOut::merge(&mut l, p);
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].forms, vec!["plain", "base64"]);
        assert!(l[0].whole);
        SecretOut::merge(&mut l, SecretOut::whole_plain("other".into(), None));
        assert_eq!(l.len(), 2);
    }
}
