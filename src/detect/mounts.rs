//! Container runs that hand the host's credentials to the container: a bind
//! mount of a credential file or folder (`docker run -v ~/.ssh:/k …`,
//! `--mount type=bind,source=$HOME/.aws,…`) is a read of it (EXF-TRACE-003),
//! since whatever the container runs can read and send it; so is a build
//! whose context is the home folder, the root or a credential folder (`docker
//! build -f Dockerfile ~`, `cd ~ && podman build .`): the whole context goes to
//! the builder and a `COPY` puts it in the image. Input is a parsed
//! [`Command`]; output the paths that hold credentials.

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

/// Container builders (`build`; buildah's `bud` too).
const BUILDERS: &[&str] = &["docker", "podman", "nerdctl", "finch", "buildah", "kaniko"];

/// Build options that take the next word as their value.
const VALUED: &[&str] = &[
    "-t",
    "--tag",
    "-f",
    "--file",
    "--build-arg",
    "--target",
    "--platform",
    "--label",
    "--network",
    "--secret",
    "--ssh",
    "-o",
    "--output",
    "--cache-from",
    "--cache-to",
    "--progress",
    "--iidfile",
    "--add-host",
    "--build-context",
    "--builder",
    "--shm-size",
    "--ulimit",
    "-m",
    "--memory",
    "--isolation",
    "--metadata-file",
    "--annotation",
    "--attest",
    "--allow",
    "--cgroup-parent",
    "--security-opt",
    "--format",
    "--layers",
];

/// The build context of a container build when it is the home folder, the
/// root, a credential file or a credential folder.
pub fn build_context_credentials(cmd: &Command, tax: &Taxonomy) -> Option<String> {
    if !BUILDERS.contains(&cmd.name().as_str()) {
        return None;
    }
    let args = cmd.args();
    // `build`, `buildx build`, `image build`, after global options only
    let sub = args.iter().position(|a| {
        !(a.starts_with('-') || ["buildx", "image", "builder"].contains(&a.as_str()))
    })?;
    if args[sub] != "build" && args[sub] != "bud" {
        return None;
    }
    let mut it = args[sub + 1..].iter();
    let context = loop {
        let a = it.next()?;
        if a.starts_with('-') && a.len() > 1 {
            if VALUED.contains(&a.as_str()) {
                it.next();
            }
            continue;
        }
        break a;
    };
    if context == "-" || context.contains("://") || context.starts_with("git@") {
        return None;
    }
    let full = super::path::resolve(context, cmd.cwd.as_deref());
    if super::path::is_relative(&full) {
        return None;
    }
    let trimmed = full.trim_end_matches('/');
    let whole = super::hunt::whole_tree(&full);
    (whole || tax.credential_at(trimmed, None).is_some() || tax.sensitive_dir(trimmed))
        .then(|| context.clone())
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

    fn contexts(line: &str) -> Vec<String> {
        let tax = Taxonomy::load(&DetectionConfig::default()).expect("tax");
        let s = parse_script(line, &tax);
        s.commands
            .iter()
            .filter_map(|c| build_context_credentials(c, &tax))
            .collect()
    }

    #[test]
    fn builds_of_the_home_folder_or_credential_folders() {
        for line in [
            "docker build -t x -f Dockerfile ~",
            "cd ~ && docker build -f Dockerfile.dev -t qh/dev .",
            "docker build -f /tmp/Df -t h $HOME",
            "docker build -t x -f - ~/.ssh",
            "podman build -f Containerfile /home/dev",
            "docker buildx build --platform linux/amd64 -t a /Users/dev/",
            "buildah bud -f Containerfile ${HOME}/.aws",
            "sudo docker image build /",
        ] {
            assert_eq!(contexts(line).len(), 1, "{line}");
        }
    }

    #[test]
    fn builds_of_a_project_are_not_credentials() {
        for line in [
            "docker build -t app:dev .",
            "docker build -t app -f docker/Dockerfile .",
            "cd ~/src/app && docker build .",
            "docker build -t x https://github.com/acme/app.git",
            "docker build - < Dockerfile",
            "podman build -t a ~/src/app",
            "docker compose build",
        ] {
            assert!(contexts(line).is_empty(), "{line}");
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
