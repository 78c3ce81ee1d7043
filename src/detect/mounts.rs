//! Container runs that hand the host's credentials to the container: a bind
//! mount of a credential file or folder (`docker run -v ~/.ssh:/k …`,
//! `--mount type=bind,source=$HOME/.aws,…`) is a read of it (EXF-TRACE-003),
//! since whatever the container runs can read and send it. Input is a parsed
//! [`Command`]; output the mounted paths that hold credentials.

use super::shell::Command;
use super::taxonomy::Taxonomy;

/// Container engines whose `run`/`create` take `-v`/`--volume`/`--mount`.
const ENGINES: &[&str] = &["docker", "podman", "nerdctl", "finch"];

/// The host paths `cmd` mounts into a container that are credential files or
/// credential folders.
pub fn mounted_credentials(cmd: &Command, tax: &Taxonomy) -> Vec<String> {
    let name = cmd.name();
    if !ENGINES.contains(&name.as_str()) {
        return Vec::new();
    }
    let args = cmd.args();
    let sub = args.iter().position(|a| a == "run" || a == "create");
    let Some(sub) = sub else {
        return Vec::new();
    };
    let mut sources = Vec::new();
    let mut it = args[sub + 1..].iter();
    while let Some(a) = it.next() {
        let spec = match a.as_str() {
            "-v" | "--volume" => it.next().map(|v| volume_source(v)),
            "--mount" => it.next().and_then(|m| mount_source(m)),
            _ => a
                .strip_prefix("--volume=")
                .or_else(|| a.strip_prefix("-v").filter(|v| !v.is_empty()))
                .map(volume_source)
                .or_else(|| a.strip_prefix("--mount=").and_then(mount_source)),
        };
        sources.extend(spec);
    }
    sources
        .into_iter()
        .filter(|s| {
            let trimmed = s.trim_end_matches('/');
            tax.credential_at(trimmed, cmd.cwd.as_deref()).is_some() || tax.sensitive_dir(trimmed)
        })
        .collect()
}

fn volume_source(spec: &str) -> String {
    spec.split(':').next().unwrap_or("").to_string()
}

fn mount_source(spec: &str) -> Option<String> {
    spec.split(',').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        ["source", "src"].contains(&k).then(|| v.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::shell::parse_script;
    use crate::detect::taxonomy::{DetectionConfig, Taxonomy};

    fn mounted(line: &str) -> Vec<String> {
        let tax = Taxonomy::load(&DetectionConfig::default()).expect("tax");
        let s = parse_script(line, &tax);
        s.commands
            .iter()
            .flat_map(|c| mounted_credentials(c, &tax))
            .collect()
    }

    #[test]
    fn credential_folders_mounted_in_any_spelling() {
        for line in [
            "docker run --rm -v ~/.ssh:/k alpine cat /k/id_rsa",
            "docker run --rm -v $HOME/.aws:/root/.aws amazon/aws-cli s3 ls",
            "podman run --rm -v ~/.kube:/k:ro busybox cat /k/config",
            "docker run --volume=/home/dev/.docker/config.json:/c.json alpine true",
            "docker run --mount type=bind,source=/home/dev/.ssh,target=/s alpine sh",
            "sudo docker create -v ~/.gnupg/:/g alpine",
        ] {
            assert_eq!(mounted(line).len(), 1, "{line}");
        }
    }

    #[test]
    fn project_and_cache_mounts_are_not_credentials() {
        for line in [
            "docker run --rm -v \"$(pwd)\":/app -w /app python:3.12 pytest",
            "docker run -v ~/.cache/pip:/root/.cache/pip python:3.12 pip install -e .",
            "docker run -v ~/.ssh/known_hosts:/root/.ssh/known_hosts:ro alpine true",
            "docker ps -a",
        ] {
            assert!(mounted(line).is_empty(), "{line}");
        }
    }
}
