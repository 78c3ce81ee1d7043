//! curl's config files (`curl -K FILE`, `--config -`, `~/.curlrc`): each line
//! is an option (`url = "…"`, `upload-file = …`, `--data @file`), so a config
//! written with what to send and where is the command line it stands for.

/// Config keys that send data (long names, and the short ones curl also takes).
const SENDS: &[&str] = &[
    "upload-file",
    "data",
    "data-binary",
    "data-raw",
    "data-ascii",
    "data-urlencode",
    "form",
    "form-string",
    "json",
    "T",
    "d",
    "F",
];

/// The curl command a config text stands for, when it names a URL and sends
/// something (`curl --upload-file F URL`); `None` for anything else.
pub fn config_argv(text: &str) -> Option<Vec<String>> {
    let mut argv = vec!["curl".to_string()];
    let (mut url, mut sends) = (false, false);
    for line in text.lines().take(64) {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let l = l.trim_start_matches('-');
        let cut = l.find(['=', ':', ' ', '\t']).unwrap_or(l.len());
        let key = &l[..cut];
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return None;
        }
        let value = l[cut..]
            .trim_start_matches(['=', ':', ' ', '\t'])
            .trim()
            .trim_matches('"');
        if key == "url" {
            url = true;
            argv.push(value.to_string());
            continue;
        }
        sends |= SENDS.contains(&key);
        argv.push(if key.len() == 1 {
            format!("-{key}")
        } else {
            format!("--{key}")
        });
        if !value.is_empty() {
            argv.push(value.to_string());
        }
    }
    (url && sends).then_some(argv)
}

/// [`config_argv`] as one shell command line.
pub fn config_line(text: &str) -> Option<String> {
    let argv = config_argv(text)?;
    Some(
        argv.iter()
            .map(|w| super::walker::shell_quote(w))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// True for `curl -K -` / `--config /dev/stdin`: the config comes on stdin.
pub(super) fn config_on_stdin(cmd: &super::Command) -> bool {
    cmd.name() == "curl"
        && ["-K", "--config"].iter().any(|f| {
            cmd.flag_value(f)
                .is_some_and(|v| ["-", "/dev/stdin", "/dev/fd/0"].contains(&v))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_that_sends_is_its_command_line() {
        assert_eq!(
            config_argv("url = \"http://x/u\"\nupload-file = \"/home/u/.netrc\"\n").unwrap(),
            ["curl", "http://x/u", "--upload-file", "/home/u/.netrc"]
        );
        assert_eq!(
            config_argv("--data @/home/u/.aws/credentials\nurl: http://x/\nsilent\n").unwrap(),
            [
                "curl",
                "--data",
                "@/home/u/.aws/credentials",
                "http://x/",
                "--silent"
            ]
        );
    }

    #[test]
    fn other_text_and_plain_configs_are_not() {
        assert_eq!(config_argv("silent\nshow-error\nretry = 3\n"), None);
        assert_eq!(config_argv("url = https://example.org/\n"), None);
        assert_eq!(config_argv("# notes\nHello, world: this is prose\n"), None);
    }
}
